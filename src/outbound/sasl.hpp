// outbound/sasl.hpp: PURE SMTP AUTH (RFC 4954) client messages for PLAIN (RFC 4616) and LOGIN.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: base64 and the exact lines we send for AUTH PLAIN / AUTH LOGIN.
// Trust: credentials are admin-supplied (relayhost_username, relayhost_password_file)
//        and SECRET: these lines must only ever be written to an encrypted
//        connection (smtp_client::authenticate checks) and never logged.
//        valid_credential() refuses NUL, CR and LF (they would split the PLAIN
//        message or the command line).
// Standards: RFC 4954 4 (AUTH command, 334 continuation, 235 success),
//            RFC 4616 2 (PLAIN: authzid NUL authcid NUL passwd), RFC 4648 4 (base64).
#pragma once

#include <string>
#include <string_view>

namespace postrider::outbound {

struct sasl_credentials {
    std::string username;
    std::string password;  // SECRET
};

// base64 - RFC 4648 4 with padding, no line breaks.
std::string base64(std::string_view raw);

// valid_credential - non-empty, at most 255 octets, no NUL, CR or LF.
bool valid_credential(std::string_view s) noexcept;

// auth_plain_command - "AUTH PLAIN <base64(NUL user NUL password)>\r\n" (initial response, RFC 4954 4).
std::string auth_plain_command(const sasl_credentials& c);

// auth_login_response - base64(value) + CRLF: the answer to one 334 of AUTH LOGIN.
std::string auth_login_response(std::string_view value);

}  // namespace postrider::outbound
