// outbound/protocol.hpp: PURE pieces of the SMTP client: EHLO keywords, MAIL/RCPT lines, dot-stuffing.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: what we send (command text, DATA framing) and what we understood of
//       the server's EHLO reply.
// Trust: EHLO reply lines are UNTRUSTED (only recognised keywords are kept; a
//        SIZE value is range-checked). Addresses and ENVID/ORCPT come from the
//        queue (validated at receipt); ENVID/ORCPT are re-encoded as xtext so
//        they cannot add parameters or lines.
// Standards: RFC 5321 4.1.1, 4.5.2 (transparency); RFC 1870 (SIZE), 6152
//            (8BITMIME), 2920 (PIPELINING), 3207 (STARTTLS), 3461 (DSN, xtext),
//            6531 (SMTPUTF8).
#pragma once

#include "outbound/reply_parser.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::outbound {

struct extensions {
    bool pipelining = false, starttls = false, eightbitmime = false, dsn = false, smtputf8 = false;
    bool size = false;
    std::uint64_t max_size = 0;  // 0: SIZE without a limit (or not offered)
    bool auth_plain = false, auth_login = false;  // RFC 4954 AUTH mechanisms we can use
};

// parse_ehlo - the keywords we use, from a 250 EHLO reply (first line is the greeting name).
extensions parse_ehlo(const remote_reply& r);

struct mail_options {
    std::uint64_t size = 0;
    bool body_8bit = false, smtputf8 = false, ret_full = false;
    std::string envid;  // decoded; empty: none
};

// mail_line - "MAIL FROM:<sender> [SIZE=] [BODY=8BITMIME] [SMTPUTF8] [RET= ENVID=]\r\n" per ext.
std::string mail_line(std::string_view sender, const mail_options& o, const extensions& ext);

// rcpt_line - "RCPT TO:<address> [NOTIFY= ORCPT=rfc822;xtext]\r\n"; notify uses queue::notify_flags bits.
std::string rcpt_line(std::string_view address, std::string_view orcpt, std::uint8_t notify, const extensions& ext);

// xtext - RFC 3461 4: '+', '=' and octets outside 33..126 as "+HH".
std::string xtext(std::string_view raw);

// dot_stuff - DATA body for a CRLF message: lines starting with '.' doubled, final CRLF
//             ensured, terminated by ".\r\n" (RFC 5321 4.5.2).
std::string dot_stuff(std::string_view message);

}  // namespace postrider::outbound
