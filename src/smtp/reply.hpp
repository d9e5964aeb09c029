// smtp/reply.hpp: the server's reply model and its wire format.
//
// Owns: reply values (code, enhanced status, text lines) and the
//       "250-..."/"250 ..." multiline encoding.
// Trust: text lines are built by the engine; any peer-derived part must have
//        been passed through core::escape first. format_reply() still
//        replaces CR, LF and other control octets so one reply can never
//        inject another (defence in depth).
// Standards: RFC 5321 4.2 (reply syntax), 4.2.1 (multiline);
//            RFC 2034 / 3463 (enhanced status codes).
// See also: docs/smtp.md (every reply the server sends).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postrider::smtp {

struct reply {
    int code = 0;                    // 3-digit RFC 5321 reply code
    std::string status;              // enhanced status "x.y.z", or empty (greeting, EHLO, HELO)
    std::vector<std::string> lines;  // one entry per reply line, without CRLF
};

// make_reply - a one-line reply.
reply make_reply(int code, std::string_view status, std::string_view text);

// format_reply - wire bytes: every line "ddd-"/"ddd " + status + text + CRLF.
std::string format_reply(const reply& r);

// is_failure - 4xx or 5xx (RFC 5321 4.2.1 transient/permanent negative).
constexpr bool is_failure(int code) noexcept { return code >= 400 && code < 600; }

}  // namespace postrider::smtp
