// outbound/sasl.cpp: PURE SMTP AUTH client messages (see sasl.hpp).
#include "outbound/sasl.hpp"

namespace postrider::outbound {

std::string base64(std::string_view raw)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((raw.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= raw.size(); i += 3) {
        const unsigned v = static_cast<unsigned char>(raw[i]) << 16 | static_cast<unsigned char>(raw[i + 1]) << 8 |
                           static_cast<unsigned char>(raw[i + 2]);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += alphabet[v & 63];
    }
    if (const std::size_t rest = raw.size() - i; rest > 0) {
        unsigned v = static_cast<unsigned char>(raw[i]) << 16;
        if (rest == 2) v |= static_cast<unsigned char>(raw[i + 1]) << 8;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += rest == 2 ? alphabet[v >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

bool valid_credential(std::string_view s) noexcept
{
    if (s.empty() || s.size() > 255) return false;
    for (char c : s)
        if (c == '\0' || c == '\r' || c == '\n') return false;
    return true;
}

std::string auth_plain_command(const sasl_credentials& c)
{
    // RFC 4616 2: empty authzid (act as the authentication identity).
    std::string message;
    message += '\0';
    message += c.username;
    message += '\0';
    message += c.password;
    return "AUTH PLAIN " + base64(message) + "\r\n";
}

std::string auth_login_response(std::string_view value) { return base64(value) + "\r\n"; }

}  // namespace postrider::outbound
