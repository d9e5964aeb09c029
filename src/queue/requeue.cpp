// queue/requeue.cpp: PURE requeue records (see requeue.hpp).
#include "queue/requeue.hpp"

#include <optional>
#include <string>

namespace postrider::queue {

outcome requeue_outcome(std::uint32_t rcpt, std::string_view last_status, std::int64_t now_us)
{
    outcome o;
    o.recipient = rcpt;
    o.kind = outcome_kind::deferred;
    o.at_us = now_us;
    o.next_attempt_us = now_us;
    o.attempts = 0;
    o.status = last_status.empty() ? "4.0.0" : std::string(last_status);
    o.reason = std::string(requeue_reason);
    return o;
}

bool is_requeue_record(const outcome& o) noexcept
{
    return o.kind == outcome_kind::deferred && o.attempts == 0;
}

std::vector<outcome> requeue_outcomes(const env_file& f, std::int64_t now_us)
{
    std::vector<std::optional<outcome>> last(f.env.recipients.size());
    for (const auto& o : f.journal)
        if (o.recipient < last.size()) last[o.recipient] = o;
    std::vector<outcome> out;
    for (std::uint32_t i = 0; i < last.size(); ++i)
        if (last[i] && last[i]->kind == outcome_kind::deferred)
            out.push_back(requeue_outcome(i, last[i]->status, now_us));
    return out;
}

}  // namespace postrider::queue
