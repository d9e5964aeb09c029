// smtp/ehlo.cpp: the EHLO reply (see ehlo.hpp).
#include "smtp/ehlo.hpp"

#include <string>

namespace postrider::smtp {

reply make_ehlo_reply(std::string_view hostname, std::uint64_t max_message_size, const ehlo_offer& offer)
{
    reply r{250, "", {std::string(hostname)}};
    r.lines.emplace_back("PIPELINING");
    // RFC 1870 4: "SIZE" with no number means no fixed limit is announced.
    r.lines.push_back(max_message_size ? "SIZE " + std::to_string(max_message_size) : "SIZE");
    // RFC 3207 4.2: never after TLS is active (the client must not repeat it).
    if (offer.starttls)
        r.lines.emplace_back("STARTTLS");
    // RFC 4954 4: mechanisms in the EHLO line; the session offers them only over TLS unless told otherwise.
    if (offer.auth)
        r.lines.emplace_back("AUTH PLAIN LOGIN");
    r.lines.emplace_back("8BITMIME");
    r.lines.emplace_back("ENHANCEDSTATUSCODES");
    r.lines.emplace_back("SMTPUTF8");
    r.lines.emplace_back("CHUNKING");
    // RFC 3461: NOTIFY/ORCPT on RCPT and RET/ENVID on MAIL are parsed, queued and honoured.
    r.lines.emplace_back("DSN");
    return r;
}

}  // namespace postrider::smtp
