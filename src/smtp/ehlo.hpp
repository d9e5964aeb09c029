// smtp/ehlo.hpp: the EHLO reply (our service extensions).
//
// Owns: which extensions we advertise, in which order.
// Trust: built from configuration only (hostname, size limit); no peer text.
// Standards: RFC 5321 4.1.1.1 (EHLO reply), 2920 (PIPELINING), 1870 (SIZE),
//            6152 (8BITMIME), 2034 (ENHANCEDSTATUSCODES), 6531 (SMTPUTF8),
//            3030 (CHUNKING), 3461 (DSN), 3207 (STARTTLS).
// See also: server_engine.cpp (STARTTLS/AUTH hook), docs/smtp.md.
#pragma once

#include <cstdint>
#include <string_view>

#include "smtp/reply.hpp"

namespace postrider::smtp {

// What depends on the session: STARTTLS only while the stream is still plaintext.
struct ehlo_offer {
    bool starttls = false;
    bool auth = false;  // "AUTH PLAIN LOGIN"
};

// make_ehlo_reply - "250-<hostname>" then one line per extension; size 0 advertises bare "SIZE".
reply make_ehlo_reply(std::string_view hostname, std::uint64_t max_message_size, const ehlo_offer& offer = {});

}  // namespace postrider::smtp
