// smtp/ehlo.cpp: the EHLO reply (see ehlo.hpp).
#include "smtp/ehlo.hpp"

#include <string>

namespace postrider::smtp {

reply make_ehlo_reply(std::string_view hostname, std::uint64_t max_message_size)
{
    reply r{250, "", {std::string(hostname)}};
    r.lines.emplace_back("PIPELINING");
    // RFC 1870 4: "SIZE" with no number means no fixed limit is announced.
    r.lines.push_back(max_message_size ? "SIZE " + std::to_string(max_message_size) : "SIZE");
    r.lines.emplace_back("8BITMIME");
    r.lines.emplace_back("ENHANCEDSTATUSCODES");
    r.lines.emplace_back("SMTPUTF8");
    r.lines.emplace_back("CHUNKING");
    // RFC 3461: NOTIFY/ORCPT on RCPT and RET/ENVID on MAIL are parsed, queued and honoured.
    r.lines.emplace_back("DSN");
    // HOOK(STARTTLS/AUTH): advertise "STARTTLS" here when the session has a TLS
    // context and the stream is not yet encrypted, and "AUTH <mechs>" only once
    // it is (never offer plaintext AUTH). Both need the engine to stop
    // processing input after the command (see server_engine.cpp).
    return r;
}

}  // namespace postrider::smtp
