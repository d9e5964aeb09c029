// outbound/sasl.cpp: PURE SMTP AUTH client messages (see sasl.hpp).
#include "outbound/sasl.hpp"

#include "core/base64.hpp"

namespace postrider::outbound {

std::string base64(std::string_view raw) { return core::base64_encode(raw); }

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
