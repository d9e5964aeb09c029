// outbound/reply_parser.cpp: PURE SMTP reply parsing (see reply_parser.hpp).
#include "outbound/reply_parser.hpp"

#include "core/escape.hpp"

namespace postrider::outbound {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// parse_code - "ddd" with RFC 5321 4.2 ranges (first digit 2-5, second 0-5), or 0.
int parse_code(std::string_view line)
{
    if (line.size() < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2])) return 0;
    if (line[0] < '2' || line[0] > '5' || line[1] > '5') return 0;
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

// digits - count of leading digits (at most max+1, so callers can reject overlong runs).
std::size_t digits(std::string_view s, std::size_t max)
{
    std::size_t n = 0;
    while (n < s.size() && n <= max && digit(s[n])) ++n;
    return n;
}

}  // namespace

std::optional<std::pair<std::string, std::string_view>> parse_enhanced_status(std::string_view text, int code)
{
    // RFC 3463 2: class "." subject "." detail; subject and detail 1-3 digits.
    if (text.size() < 5 || text[0] - '0' != code / 100 || text[1] != '.') return std::nullopt;
    std::size_t a = digits(text.substr(2), 3);
    if (a == 0 || a > 3 || 2 + a >= text.size() || text[2 + a] != '.') return std::nullopt;
    std::size_t b = digits(text.substr(3 + a), 3);
    if (b == 0 || b > 3) return std::nullopt;
    std::size_t end = 3 + a + b;
    if (end < text.size() && text[end] != ' ') return std::nullopt;
    std::string_view rest = end < text.size() ? text.substr(end + 1) : std::string_view{};
    return std::pair{std::string(text.substr(0, end)), rest};
}

std::string remote_reply::diagnostic() const
{
    std::string joined = std::to_string(code);
    if (!status.empty()) joined += " " + status;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        joined += i == 0 ? " " : "; ";
        joined += lines[i];
    }
    return core::escape(joined);
}

const char* describe(reply_error e) noexcept
{
    switch (e) {
    case reply_error::none: return "no error";
    case reply_error::syntax: return "malformed reply line";
    case reply_error::line_too_long: return "reply line too long";
    case reply_error::too_many_lines: return "too many reply lines";
    case reply_error::too_large: return "reply too large";
    case reply_error::mixed_codes: return "multiline reply with mixed codes";
    }
    return "unknown reply error";
}

void reply_parser::fail(reply_error e)
{
    if (error_ == reply_error::none) error_ = e;
    line_.clear();
}

void reply_parser::feed(std::string_view bytes)
{
    while (!bytes.empty() && error_ == reply_error::none) {
        auto lf = bytes.find('\n');
        std::string_view chunk = bytes.substr(0, lf == std::string_view::npos ? bytes.size() : lf);
        if (line_.size() + chunk.size() > reply_line_octets) return fail(reply_error::line_too_long);
        line_.append(chunk);
        if (lf == std::string_view::npos) return;
        bytes.remove_prefix(lf + 1);
        // A bare LF ends a line too (lenient, as Postfix's smtp client is); drop a trailing CR.
        std::string line = std::move(line_);
        line_.clear();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        on_line(line);
    }
}

void reply_parser::on_line(std::string_view line)
{
    int code = parse_code(line);
    if (code == 0 || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) return fail(reply_error::syntax);
    if (!current_.lines.empty() && code != current_.code) return fail(reply_error::mixed_codes);
    if (current_.lines.size() >= reply_max_lines) return fail(reply_error::too_many_lines);
    current_octets_ += line.size() + 2;
    if (current_octets_ > reply_max_octets) return fail(reply_error::too_large);
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    if (current_.lines.empty()) {
        current_.code = code;
        if (auto es = parse_enhanced_status(text, code)) {
            current_.status = es->first;
            text = es->second;
        }
    }
    current_.lines.emplace_back(text);
    if (line.size() > 3 && line[3] == '-') return;  // RFC 5321 4.2.1: more lines follow
    done_.push_back(std::move(current_));
    current_ = {};
    current_octets_ = 0;
}

std::optional<remote_reply> reply_parser::next()
{
    if (done_.empty()) return std::nullopt;
    remote_reply r = std::move(done_.front());
    done_.pop_front();
    return r;
}

}  // namespace postrider::outbound
