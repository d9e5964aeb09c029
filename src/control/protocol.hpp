// control/protocol.hpp: PURE request/reply lines of the local control socket.
//
// PURE: no I/O.
// Owns: the request grammar: one line per connection, "flush" | "delete ID" |
//       "requeue ID" | "requeue all" | "ping", LF-terminated; the reply is one line "ok[ TEXT]" or "error TEXT".
// Trust: requests come only from local processes that passed the socket's
//        file mode (0600) and the server's peer-uid check; parsed anyway with
//        a length cap and an allow-list (ids must be valid queue ids).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postrider::control {

inline constexpr std::size_t max_request_octets = 256;

enum class verb { ping, flush, remove, requeue };

struct request {
    verb what = verb::ping;
    std::string id;  // remove: a valid queue id; requeue: a valid queue id, or "" for all
};

// parse_request - one line (without its LF); nullopt if not a valid request.
std::optional<request> parse_request(std::string_view line);
// format_request - the line a client sends (LF included).
std::string format_request(const request& r);
// reply_ok / reply_error - the one reply line (LF included); text is sanitised to printable ASCII.
std::string reply_ok(std::string_view text = {});
std::string reply_error(std::string_view text);

}  // namespace postrider::control
