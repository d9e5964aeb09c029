#include "core/log_format.hpp"

#include "core/escape.hpp"

namespace postrider::core {
namespace {

// utf8_length - octets of the valid UTF-8 sequence at s[i], or 0 when it is not one
//               (overlong forms, surrogates and code points past U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i)
{
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xbf;  // allowed range of the second octet
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c == 0xe0) { n = 3; lo = 0xa0; }
    else if (c == 0xed) { n = 3; hi = 0x9f; }
    else if (c >= 0xe1 && c <= 0xef) n = 3;
    else if (c == 0xf0) { n = 4; lo = 0x90; }
    else if (c == 0xf4) { n = 4; hi = 0x8f; }
    else if (c >= 0xf1 && c <= 0xf3) n = 4;
    else return 0;
    if (i + n > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
    return n;
}

bool bare_logfmt(std::string_view v)
{
    if (v.empty()) return false;
    for (unsigned char c : v)
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=') return false;
    return true;
}

}  // namespace

std::string_view event_id(std::string_view line)
{
    auto colon = line.find(": ");
    if (colon == std::string_view::npos || colon == 0 || colon > 64) return {};
    auto id = line.substr(0, colon);
    for (unsigned char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_'))
            return {};
    return id;
}

std::string json_string(std::string_view raw)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() + 8);
    for (std::size_t i = 0; i < raw.size();) {
        const unsigned char c = static_cast<unsigned char>(raw[i]);
        if (c >= 0x80) {
            if (auto n = utf8_length(raw, i)) {
                out.append(raw.substr(i, n));
                i += n;
            } else {
                out += "\\ufffd";
                ++i;
            }
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            } else {
                out += static_cast<char>(c);
            }
        }
        ++i;
    }
    return out;
}

std::string json_fields(std::string_view line)
{
    std::string out;
    if (auto id = event_id(line); !id.empty()) {
        out += "\"id\":\"" + json_string(id) + "\",";
        line.remove_prefix(id.size() + 2);
    }
    out += "\"msg\":\"" + json_string(line) + "\"";
    return out;
}

std::string logfmt_value(std::string_view raw, std::size_t max)
{
    if (bare_logfmt(raw) && raw.size() <= max) return std::string(raw);
    return "\"" + escape(raw, max) + "\"";
}

std::string cap_line(std::string_view line, std::size_t max)
{
    static constexpr std::string_view mark = "...[truncated]";
    if (line.size() <= max) return std::string(line);
    auto keep = max > mark.size() ? max - mark.size() : 0;
    // Never end inside a UTF-8 sequence: step back over continuation octets.
    while (keep > 0 && (static_cast<unsigned char>(line[keep]) & 0xc0) == 0x80) --keep;
    return std::string(line.substr(0, keep)) + std::string(mark);
}

std::string seconds_text(std::chrono::microseconds d)
{
    auto us = d.count() < 0 ? 0 : d.count();
    auto hundredths = (us + 5000) / 10000;
    std::string out = std::to_string(hundredths / 100);
    auto frac = hundredths % 100;
    if (frac != 0) {
        out += '.';
        out += static_cast<char>('0' + frac / 10);
        if (frac % 10 != 0) out += static_cast<char>('0' + frac % 10);
    }
    return out;
}

}  // namespace postrider::core
