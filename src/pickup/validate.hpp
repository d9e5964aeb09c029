// pickup/validate.hpp: a decoded maildrop file becomes a queue submission,
//                      or is refused with a reason.
//
// PURE: no I/O, no clock (time, uid and ids are parameters).
// Owns: the rules a maildrop message must meet before it may enter the queue,
//       the Received: header pickup prepends, and the masquerading of local mail.
// Trust: the input is UNTRUSTED: a maildrop file could have been written by
//        any process with write access to the maildrop, not only by our
//        wrapper. Addresses go through the same smtp/ parsers as SMTP input;
//        content must already be CRLF lines without NUL (what the wrapper and
//        the SMTP engine produce); sizes and counts are bounded. The uid in
//        the trace header comes from the file's owner (fstat), never from
//        the file's content.
// See also: drop_format.hpp, docs/sendmail.md, docs/security.md.
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "core/masquerade.hpp"
#include "pickup/drop_format.hpp"
#include "queue/submission.hpp"

namespace postrider::pickup {

struct drop_limits {
    std::uint64_t max_size = 0;      // message_size_limit; 0 = none
    std::size_t max_recipients = 0;  // recipient_limit; 0 = none
    std::string verp_delimiters = "+=";  // for VERP requests that name none (verp_delimiters)
};

struct drop_origin {
    std::string our_host;  // hostname for the Received: header and <postmaster>
    std::string queue_id;  // the id the message will get
    unsigned owner_uid = 0;  // st_uid of the maildrop file
    std::time_t now = 0;
    bool hide_client = false;  // hide_client_hosts: the Received names neither HELO nor uid
};

struct validated_drop {
    std::optional<queue::new_message> message;  // set when acceptable
    std::string error;                          // why not, for the log (already escaped)
};

// check_content - empty when content is non-empty CRLF lines without NUL or bare CR/LF, each
//                 at most limits::data_line_octets; else the reason.
std::string check_content(std::string_view content);

// validate_drop - the submission for a decoded file, trace header prepended; or the reason.
validated_drop validate_drop(dropped_message m, const drop_limits& limits, const drop_origin& origin);

// masquerade_drop - masquerading (docs/addressing.md) of a validated local submission: the
//                   envelope sender and the header fields of r.classes. The rewritten header
//                   section is appended to m.trace and m.content_skip covers the original, so
//                   the body is never copied. Nothing changes when no rule applies.
void masquerade_drop(queue::new_message& m, const core::masquerade_rules& r);

}  // namespace postrider::pickup
