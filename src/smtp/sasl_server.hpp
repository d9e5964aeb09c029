// smtp/sasl_server.hpp: the server side of SMTP AUTH exchanges, PLAIN and LOGIN.
//
// Owns: mechanism names, the 334 challenges, decoding and splitting the
//       client's responses into credentials.
// Trust: every response is UNTRUSTED: strict base64 (core/base64), "*" cancels
//        (RFC 4954 4), PLAIN must be exactly authzid NUL authcid NUL passwd
//        with a non-empty authcid and password and no NUL/CR/LF inside.
//        Credentials are SECRET: never logged, never echoed.
// Standards: RFC 4954 4 (AUTH, 334, "*", "="), RFC 4616 2 (PLAIN),
//            draft-murchison-sasl-login (LOGIN: "Username:", "Password:").
// PURE: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postrider::smtp {

enum class sasl_mechanism { plain, login };

// parse_sasl_mechanism - "PLAIN"/"LOGIN", case-insensitive; nullopt for anything else.
std::optional<sasl_mechanism> parse_sasl_mechanism(std::string_view name) noexcept;

struct sasl_credentials {
    std::string authzid;   // PLAIN only; empty when not given
    std::string authcid;   // the login name
    std::string password;  // SECRET
};

struct sasl_step {
    enum class kind { challenge, done, cancelled, bad_base64, malformed };
    kind what = kind::malformed;
    std::string challenge;        // base64 text for "334 <challenge>" when what == challenge
    sasl_credentials credentials; // when what == done
};

// One exchange: start() once, then respond() to each client line until the step is not a challenge.
class sasl_exchange {
public:
    explicit sasl_exchange(sasl_mechanism m) : mech_(m) {}
    // start - the AUTH command's optional initial response (RFC 4954 4: "=" is an empty one).
    sasl_step start(std::optional<std::string_view> initial_response);
    // respond - one client line answering a 334.
    sasl_step respond(std::string_view line);

private:
    sasl_step take(std::string_view b64);
    sasl_step accept(std::string decoded);

    sasl_mechanism mech_;
    int stage_ = 0;  // LOGIN: 0 = wants user name, 1 = wants password
    sasl_credentials creds_;
};

}  // namespace postrider::smtp
