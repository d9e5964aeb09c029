// queue/bounce.hpp: PURE composition of RFC 3464 delivery status notifications.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the text of a non-delivery report (multipart/report; report-type=delivery-status).
// Trust: recipients, the original sender and diagnostic text came from peers
//        (UNTRUSTED): values are stripped of CR/LF/NUL before they go into
//        header or DSN fields, so they cannot add lines; the original headers
//        are copied as an opaque text/rfc822-headers (or message/rfc822) part.
// Standards: RFC 3464 (DSN), RFC 3462/6522 (multipart/report), RFC 3461 (ENVID, ORCPT, RET),
//            RFC 5322 3.3 (date), RFC 3463 (enhanced status codes).
// See also: manager.cpp (when bounces are made), docs/queue-format.md ("Bounces").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::queue {

struct failed_recipient {
    std::string address;     // final recipient
    std::string orcpt;       // RFC 3461 ORCPT as received, may be empty
    std::string status;      // e.g. "5.1.1" (RFC 3463)
    std::string diagnostic;  // human text, e.g. "unknown user" or the last deferral reason
};

struct bounce_input {
    std::string hostname;         // our name: Reporting-MTA, From: MAILER-DAEMON@hostname
    std::string queue_id;         // of the original message
    std::string original_sender;  // To: of the bounce; never empty (no bounce to <>)
    std::string envid;            // RFC 3461 ENVID, may be empty
    std::int64_t arrival_unix = 0;
    std::int64_t now_unix = 0;
    std::string message_id;       // Message-ID of the bounce, without angle brackets
    std::vector<failed_recipient> recipients;
    std::string_view original;    // the original message (CRLF)
    bool ret_full = false;        // RET=FULL: include the whole message, else headers only
};

// rfc5322_date - PURE: "Tue, 24 Nov 2026 10:00:00 +0000" for a unix time (UTC).
std::string rfc5322_date(std::int64_t unix_seconds);
// header_section - PURE: the original's header block (up to, not including, the empty line).
std::string_view header_section(std::string_view message);
// compose_bounce - PURE: the whole DSN message, CRLF line ends.
std::string compose_bounce(const bounce_input& in);

}  // namespace postrider::queue
