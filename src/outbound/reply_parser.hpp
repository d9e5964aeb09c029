// outbound/reply_parser.hpp: PURE incremental parser for SMTP server replies (the client side).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: framing of a remote server's bytes into replies (code, enhanced status,
//       text lines), with hard limits on line length, line count and reply size.
// Trust: input is UNTRUSTED (any remote MX, or whoever answers on its address).
//        Limits: reply_line_octets per line, reply_max_lines lines and
//        reply_max_octets octets per reply; breaking one is a protocol error
//        value, never unbounded memory. The text is stored raw: callers must use
//        diagnostic() (escaped, capped) before it reaches a log, journal or bounce.
// Standards: RFC 5321 4.2 (reply syntax), 4.2.1 (multiline, same code on every
//            line), 4.5.3.1.5 (512-octet reply lines; we accept up to 2048);
//            RFC 3463 (enhanced status codes), RFC 2034.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::outbound {

inline constexpr std::size_t reply_line_octets = 2048;  // lenient: RFC 5321 says 512
inline constexpr std::size_t reply_max_lines = 100;     // EHLO replies have ~15
inline constexpr std::size_t reply_max_octets = 64 * 1024;

struct remote_reply {
    int code = 0;                    // 200..599
    std::string status;              // enhanced status "x.y.z" from the first line, or empty
    std::vector<std::string> lines;  // UNTRUSTED text after "ddd-"/"ddd " (status removed from line 1)

    // diagnostic - "550 5.1.1 text; text" escaped and capped: safe for logs, journal and DSNs.
    std::string diagnostic() const;
    bool positive() const noexcept { return code >= 200 && code < 400; }
    bool temporary() const noexcept { return code >= 400 && code < 500; }
    bool permanent() const noexcept { return code >= 500; }
};

enum class reply_error { none, syntax, line_too_long, too_many_lines, too_large, mixed_codes };

// describe - a short fixed text for a reply_error (safe for logs).
const char* describe(reply_error e) noexcept;

class reply_parser {
public:
    // feed - take bytes; complete replies become available through next(). After an error
    //        further input is ignored (the connection must be dropped).
    void feed(std::string_view bytes);
    // next - the oldest complete reply, if any.
    std::optional<remote_reply> next();
    // error - the first protocol error seen, or none.
    reply_error error() const noexcept { return error_; }
    // has_partial - bytes of an unfinished reply are buffered (STARTTLS injection check).
    bool has_partial() const noexcept { return !line_.empty() || !current_.lines.empty(); }
    // pending - complete replies not yet taken.
    std::size_t pending() const noexcept { return done_.size(); }

private:
    // on_line - one CRLF- (or LF-) terminated line, without the terminator.
    void on_line(std::string_view line);
    void fail(reply_error e);

    std::string line_;
    remote_reply current_;
    std::size_t current_octets_ = 0;
    std::deque<remote_reply> done_;
    reply_error error_ = reply_error::none;
};

// parse_enhanced_status - "5.1.1 rest" -> ("5.1.1", "rest") when the class matches code/100.
std::optional<std::pair<std::string, std::string_view>> parse_enhanced_status(std::string_view text, int code);

}  // namespace postrider::outbound
