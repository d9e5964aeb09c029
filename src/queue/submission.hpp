// queue/submission.hpp: how a finished SMTP transaction enters the queue.
//
// Owns: the contract between inbound sessions (and, later, pickup) and the queue.
// Trust: fields were validated by the smtp/ parsers before they get here
//        (addresses are syntactically valid RFC 5321 paths); content is the
//        peer's message, CRLF-normalised; trace is our Received header, which the
//        queue file holds in front of it.
// See also: docs/queue-format.md, docs/architecture.md ("the paper path").
//
// THE PROMISE: submit() completes with ok only after the message and its
// envelope are durable (data and directory entries flushed). A session must
// not write 250 before that result arrives; any other result is a 4xx
// (452 4.3.1 when insufficient_storage, else 451 4.3.0).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace postrider::queue {

// RFC 3461 NOTIFY bits; zero means "not given" (default: failure only).
enum notify_flags : std::uint8_t { notify_never = 1, notify_success = 2, notify_failure = 4, notify_delay = 8 };

struct envelope_recipient {
    std::string address;  // local@domain as received (validated), no angle brackets
    std::string orcpt;    // RFC 3461 ORCPT, xtext-decoded, may be empty
    std::uint8_t notify = 0;
};

struct new_message {
    std::string sender;  // empty for the null reverse-path <>
    std::vector<envelope_recipient> recipients;
    std::string trace;      // our trace header (CRLF-terminated), stored before content
    std::string content;    // the message as received; the queue file is trace + content.
                            // Two fields so a large message is never moved to prepend a header.
    std::size_t content_skip = 0;  // leading octets of content not stored because trace holds
                                   // their rewritten form (masquerading): the body is never moved
    std::string client;     // peer address text, e.g. "127.0.0.1"
    std::string helo;       // what the client said in HELO/EHLO (escaped)
    std::string protocol;   // SMTP, ESMTP, ESMTPS, ... (RFC 3848)
    bool body_8bit = false;  // BODY=8BITMIME or BINARYMIME
    bool smtputf8 = false;   // RFC 6531
    std::string envid;       // RFC 3461 ENVID, may be empty
    bool ret_full = false;   // RFC 3461 RET=FULL (default HDRS)
    std::string verp_delimiters;  // VERP (sendmail -V, MAIL ... XVERP): two delimiters; empty: no VERP
};

struct commit_result {
    bool ok = false;
    std::string queue_id;  // set when ok
    std::string reason;    // set when not ok; safe for a 4xx reply text
    // The commit failed because the queue's filesystem is full (ENOSPC/EDQUOT):
    // the session answers 452 4.3.1 (RFC 3463) instead of 451 4.3.0, so the
    // client knows to retry later rather than suspect the message.
    bool insufficient_storage = false;
};

class submitter {
public:
    virtual ~submitter() = default;
    // allocate_id - a fresh queue id, unique without relying on inode numbers; cheap, no I/O.
    virtual std::string allocate_id() = 0;
    // submit - make the message durable under id; completes only after the flush (see above).
    //          Runs on the caller's executor; disk work happens off the event loop.
    virtual boost::asio::awaitable<commit_result> submit(std::string id, new_message msg) = 0;
};

}  // namespace postrider::queue
