// queue/requeue.hpp: PURE journal records for "postrider queue requeue" (Postfix postsuper -r).
//
// PURE: no I/O, no clock (the caller passes now).
// Owns: what a requeue writes: per deferred recipient one `deferred` outcome
//       with attempts = 0 and next attempt = now. Replayed like any record
//       (the last one wins), it makes the recipient due at once and restarts
//       its retry schedule at retry_first; routing (local or remote, transport
//       table, MX) is decided again at that attempt, as at every attempt.
// Trust: works on envelopes already decoded by decode_env_file.
// See also: docs/sendmail.md ("requeue"), manager_admin.cpp (daemon side),
//           commands/queue_requeue.cpp (tool side, daemon down).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "queue/record.hpp"

namespace postrider::queue {

inline constexpr std::string_view requeue_reason = "requeued by admin request";

// requeue_outcome - the record for one recipient; the last status is kept so
//                   mailq still shows what went wrong before.
outcome requeue_outcome(std::uint32_t rcpt, std::string_view last_status, std::int64_t now_us);

// is_requeue_record - a record written by a requeue (not an attempt): it does
//                     not count towards the DSN delay notice.
bool is_requeue_record(const outcome& o) noexcept;

// requeue_outcomes - for a file read from disk: one record per recipient whose
//                    last journal record is a deferral (untried recipients are
//                    due anyway; delivered and failed ones are final).
std::vector<outcome> requeue_outcomes(const env_file& f, std::int64_t now_us);

}  // namespace postrider::queue
