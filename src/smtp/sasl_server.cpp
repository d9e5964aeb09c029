#include "smtp/sasl_server.hpp"

#include "core/base64.hpp"
#include "smtp/command.hpp"

namespace postrider::smtp {

namespace {

// clean - no NUL, CR or LF inside a name or password, and not empty.
bool clean(std::string_view s) noexcept
{
    if (s.empty()) return false;
    for (char c : s)
        if (c == '\0' || c == '\r' || c == '\n') return false;
    return true;
}

sasl_step challenge(std::string_view text)
{
    sasl_step s;
    s.what = sasl_step::kind::challenge;
    s.challenge = core::base64_encode(text);
    return s;
}

sasl_step outcome(sasl_step::kind k)
{
    sasl_step s;
    s.what = k;
    return s;
}

}  // namespace

std::optional<sasl_mechanism> parse_sasl_mechanism(std::string_view name) noexcept
{
    if (iequals(name, "PLAIN")) return sasl_mechanism::plain;
    if (iequals(name, "LOGIN")) return sasl_mechanism::login;
    return std::nullopt;
}

sasl_step sasl_exchange::start(std::optional<std::string_view> initial_response)
{
    if (!initial_response) {
        // PLAIN: an empty challenge; LOGIN: ask for the user name.
        return mech_ == sasl_mechanism::plain ? challenge("") : challenge("Username:");
    }
    if (*initial_response == "=") return accept(std::string());
    return take(*initial_response);
}

sasl_step sasl_exchange::respond(std::string_view line)
{
    if (line == "*") return outcome(sasl_step::kind::cancelled);
    return take(line);
}

sasl_step sasl_exchange::take(std::string_view b64)
{
    auto decoded = core::base64_decode(b64);
    if (!decoded) return outcome(sasl_step::kind::bad_base64);
    return accept(std::move(*decoded));
}

sasl_step sasl_exchange::accept(std::string decoded)
{
    if (mech_ == sasl_mechanism::login) {
        if (!clean(decoded)) return outcome(sasl_step::kind::malformed);
        if (stage_ == 0) {
            creds_.authcid = std::move(decoded);
            stage_ = 1;
            return challenge("Password:");
        }
        creds_.password = std::move(decoded);
        sasl_step s = outcome(sasl_step::kind::done);
        s.credentials = std::move(creds_);
        return s;
    }
    // RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
    const auto first = decoded.find('\0');
    const auto second = first == std::string::npos ? std::string::npos : decoded.find('\0', first + 1);
    if (second == std::string::npos) return outcome(sasl_step::kind::malformed);
    sasl_step s = outcome(sasl_step::kind::done);
    s.credentials.authzid = decoded.substr(0, first);
    s.credentials.authcid = decoded.substr(first + 1, second - first - 1);
    s.credentials.password = decoded.substr(second + 1);
    if (!clean(s.credentials.authcid) || !clean(s.credentials.password) ||
        (!s.credentials.authzid.empty() && !clean(s.credentials.authzid)))
        return outcome(sasl_step::kind::malformed);
    return s;
}

}  // namespace postrider::smtp
