// control/protocol.cpp: PURE control-socket lines (see protocol.hpp).
#include "control/protocol.hpp"

#include "queue/queue_id.hpp"

#include <utility>

namespace postrider::control {
namespace {

std::string printable(std::string_view s)
{
    std::string out;
    for (char c : s) out += (c >= 32 && c < 127) ? c : '?';
    return out;
}

}  // namespace

std::optional<request> parse_request(std::string_view line)
{
    if (line.size() > max_request_octets) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == "ping") return request{verb::ping, {}};
    if (line == "flush") return request{verb::flush, {}};
    if (line == "requeue all") return request{verb::requeue, {}};
    for (auto [prefix, what] : {std::pair<std::string_view, verb>{"delete ", verb::remove}, {"requeue ", verb::requeue}}) {
        if (line.substr(0, prefix.size()) != prefix) continue;
        auto id = line.substr(prefix.size());
        if (!queue::is_valid_queue_id(id)) return std::nullopt;
        return request{what, std::string(id)};
    }
    return std::nullopt;
}

std::string format_request(const request& r)
{
    switch (r.what) {
    case verb::ping: return "ping\n";
    case verb::flush: return "flush\n";
    case verb::remove: return "delete " + r.id + "\n";
    case verb::requeue: return "requeue " + (r.id.empty() ? std::string("all") : r.id) + "\n";
    }
    return "ping\n";
}

std::string reply_ok(std::string_view text)
{
    return text.empty() ? "ok\n" : "ok " + printable(text) + "\n";
}

std::string reply_error(std::string_view text)
{
    return "error " + printable(text) + "\n";
}

}  // namespace postrider::control
