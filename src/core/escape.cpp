#include "core/escape.hpp"

namespace postrider::core {

std::string escape(std::string_view raw, std::size_t max)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() < max ? raw.size() : max);
    for (unsigned char c : raw) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                out += static_cast<char>(c);
            } else {
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            }
        }
    }
    return out;
}

}  // namespace postrider::core
