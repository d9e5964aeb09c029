// smtp/reply.cpp: reply formatting (see reply.hpp).
#include "smtp/reply.hpp"

#include <cstdio>

namespace postrider::smtp {

reply make_reply(int code, std::string_view status, std::string_view text)
{
    return reply{code, std::string(status), {std::string(text)}};
}

namespace {

// append_safe_text - copy text, turning control octets into '?' so a reply line
// stays one line whatever the caller passed (RFC 5321 4.2: text is printable).
void append_safe_text(std::string& out, std::string_view text)
{
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
}

// code_text - the three digits; codes outside 200..599 are a caller bug, shown as 451.
std::string code_text(int code)
{
    if (code < 200 || code > 599)
        code = 451;
    char buf[4];
    std::snprintf(buf, sizeof buf, "%03d", code);
    return std::string(buf, 3);
}

}  // namespace

std::string format_reply(const reply& r)
{
    const std::string code = code_text(r.code);
    std::string out;
    const std::size_t n = r.lines.empty() ? 1 : r.lines.size();
    for (std::size_t i = 0; i < n; ++i) {
        out += code;
        // RFC 5321 4.2.1: '-' on every line but the last.
        out += (i + 1 < n) ? '-' : ' ';
        if (!r.status.empty()) {
            // RFC 2034 4: the enhanced code prefixes the text of every line.
            append_safe_text(out, r.status);
            out += ' ';
        }
        if (!r.lines.empty())
            append_safe_text(out, r.lines[i]);
        out += "\r\n";
    }
    return out;
}

}  // namespace postrider::smtp
