// queue/bounce.hpp: PURE composition of RFC 3464 delivery status notifications
//                   (failure, delay and success notices; double bounces).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the text of every DSN we send (multipart/report; report-type=delivery-status).
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

// What a report says happened (RFC 3464 2.3.3 Action).
enum class report_kind {
    failure,        // Action: failed; Subject "Undelivered Mail Returned to Sender"
    delay,          // Action: delayed (NOTIFY=DELAY), with Will-Retry-Until; headers only
    success,        // Action: delivered (NOTIFY=SUCCESS); headers only
    double_bounce,  // a bounce could not be delivered: Action: failed, to double_bounce_recipient
};

struct failed_recipient {
    std::string address;     // final recipient
    std::string orcpt;       // RFC 3461 ORCPT as received, may be empty
    std::string status;      // e.g. "5.1.1" (RFC 3463)
    std::string diagnostic;  // human text, e.g. "unknown user" or the last deferral reason
};
// A recipient listed in any report (the struct predates success and delay notices).
using report_recipient = failed_recipient;

struct bounce_input {
    report_kind kind = report_kind::failure;
    std::string hostname;         // our name: Reporting-MTA, From: MAILER-DAEMON@hostname
    std::string queue_id;         // of the original message
    std::string original_sender;  // To: of the bounce; never empty (no bounce to <>)
    std::string report_to;        // To: and envelope recipient when not original_sender (double
                                  // bounce: the admin; VERP: the return path naming the recipient)
    std::int64_t expiry_unix = 0; // delay: Will-Retry-Until (arrival + queue lifetime)
    std::string envid;            // RFC 3461 ENVID, may be empty
    std::int64_t arrival_unix = 0;
    std::int64_t now_unix = 0;
    std::string message_id;       // Message-ID of the bounce, without angle brackets
    std::vector<failed_recipient> recipients;
    std::string_view original;    // the original message (CRLF)
    bool ret_full = false;        // RET=FULL: include the whole message, else headers only.
                                  // RFC 3461 4.3: RET applies to failures only; delay and
                                  // success notices always carry headers only.
};

// rfc5322_date - PURE: "Tue, 24 Nov 2026 10:00:00 +0000" for a unix time (UTC).
std::string rfc5322_date(std::int64_t unix_seconds);
// header_section - PURE: the original's header block (up to, not including, the empty line).
std::string_view header_section(std::string_view message);
// compose_bounce - PURE: the whole DSN message of in.kind, CRLF line ends.
std::string compose_bounce(const bounce_input& in);

}  // namespace postrider::queue
