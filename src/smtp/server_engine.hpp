// smtp/server_engine.hpp: the inbound SMTP protocol as a sans-I/O engine.
//
// Owns: framing of client bytes, command parsing, the RFC 5321 state machine,
//       DATA/BDAT decoding and every reply the server sends. Makes every
//       protocol decision; the session coroutine (inbound/session.cpp) only
//       moves bytes, runs timers and awaits the queue.
// Trust: feed() takes UNTRUSTED bytes straight from the socket. All limits
//        (line length, message size, recipients, errors) are enforced here, and
//        internal buffers stay bounded by them whatever the peer sends.
// Standards: RFC 5321, 1869 (SIZE), 6152 (8BITMIME), 2920 (PIPELINING),
//            2034/3463 (ENHANCEDSTATUSCODES), 6531 (SMTPUTF8), 3030 (CHUNKING),
//            3207 (STARTTLS), 4954 (AUTH), 3848 (protocol names).
// See also: docs/smtp.md (every reply and its trigger).
//
// PURE: no Asio, no clock, no files, no logging. Time and I/O come from outside.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"
#include "smtp/sasl_server.hpp"

namespace postrider::smtp {

struct server_settings {
    std::string hostname = "localhost";                      // our name in 220 and EHLO replies
    std::uint64_t max_message_size = limits::default_message_size;  // octets; 0 = no limit advertised
    std::size_t max_recipients = limits::default_recipients;
    std::size_t hard_error_limit = limits::default_hard_errors;
    std::string verp_delimiters = "+=";  // for a bare XVERP (config verp_delimiters)
    bool starttls = false;  // offer STARTTLS: the listener has a certificate (RFC 3207)
    bool auth = false;               // offer AUTH PLAIN LOGIN (a users file is configured), over TLS only
    bool auth_plaintext = false;     // ... and also without TLS (auth_allow_plaintext)
    bool auth_required = false;      // submission: MAIL needs AUTH first (530 5.7.0)
    bool sender_login_match = false; // an authenticated client may only use its own sender addresses
    bool relay_permitted = false;    // the client is in mynetworks: relay_denied recipients are accepted
};

// What the recipient table says about one RCPT TO address.
enum class rcpt_verdict {
    accept,
    unknown_user,  // 550 5.1.1 (local domain, no such mailbox)
    relay_denied,  // 554 5.7.1 (domain not ours and client not allowed to relay)
    temp_failure,  // 451 4.3.0 (table unavailable)
};

// Pure lookup supplied by the composition root; must not block.
class recipient_policy {
public:
    virtual ~recipient_policy() = default;
    // check - decide one recipient; local_part is as received (unquoted form), domain lower-cased.
    virtual rcpt_verdict check(std::string_view local_part, std::string_view domain) const = 0;
};

struct rcpt_entry {
    std::string address;  // local@domain, local part in its canonical (unquoted if possible) form
    std::string orcpt;    // RFC 3461 ORCPT value, or empty
    std::uint8_t notify = 0;  // bits as queue::notify_flags
};

// A transaction whose data is complete, waiting for the queue's durable commit.
struct accepted_message {
    std::string helo;      // client's HELO/EHLO argument (validated domain or address literal)
    std::string protocol;  // "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA" (RFC 3848)
    std::string auth_user; // the AUTH login, empty when not authenticated
    std::string sender;    // local@domain, or "" for <>
    std::vector<rcpt_entry> recipients;
    bool body_8bit = false;
    bool smtputf8 = false;
    std::string envid;
    bool ret_full = false;
    std::string verp_delimiters;  // XVERP given: its delimiters (or the default); empty: no VERP
    std::string data;  // message octets: unstuffed, every line ending CRLF, no bare CR or LF
};

// A finished AUTH exchange, waiting for the session to check the password.
struct auth_request {
    sasl_mechanism mechanism = sasl_mechanism::plain;
    sasl_credentials credentials;  // SECRET password inside
};

struct auth_outcome {
    enum class result { ok, invalid, temp_failure, too_many_failures };
    result what = result::invalid;
    std::vector<std::string> senders;  // ok: the sender addresses this login may use
};

struct commit_outcome {
    bool ok = false;
    std::string queue_id;  // for the 250 text when ok
    std::string reason;    // for the 4xx text when not ok
    bool insufficient_storage = false;  // not ok because the disk is full: 452 4.3.1, else 451 4.3.0
};

// What the engine waits for, so the session can pick the right timeout.
// starttls: 220 was sent for STARTTLS; the session runs the TLS handshake and
// calls tls_started() (or ends the session). Input meanwhile is discarded.
// awaiting_auth: an AUTH exchange is complete; take_auth(), check, auth_done().
enum class input_phase { command, data, bdat_chunk, awaiting_commit, starttls, awaiting_auth, closed };

class server_engine {
public:
    server_engine(const server_settings& settings, const recipient_policy& policy,
                  std::string peer_address);
    ~server_engine();
    server_engine(const server_engine&) = delete;
    server_engine& operator=(const server_engine&) = delete;

    // greet - queue the 220 greeting. Call once, first.
    void greet();
    // refuse - queue a 421 with this text (e.g. too many sessions) and close.
    void refuse(std::string_view text);
    // feed - consume peer bytes; processes until input runs out, a message is
    //        complete (phase awaiting_commit: further bytes are buffered, not
    //        processed), or the session closes.
    void feed(std::string_view bytes);
    // take_output - replies produced so far, as wire bytes; clears them.
    std::string take_output();
    // take_message - the completed transaction, once, when phase() is awaiting_commit.
    std::optional<accepted_message> take_message();
    // commit_done - the queue's answer: 250, 452 (storage) or 451, then resume buffered input.
    void commit_done(const commit_outcome& outcome);
    // timeout - the peer was idle too long: 421 4.4.2 and close.
    void timeout();
    // shutdown - the server is stopping: 421 4.3.2 and close.
    void shutdown();
    // peer_closed - the connection ended; any unfinished transaction is dropped.
    void peer_closed();
    // take_auth - the credentials, once, when phase() is awaiting_auth.
    std::optional<auth_request> take_auth();
    // auth_done - the verdict on those credentials: 235, 535, 454 or 421; then resume held input.
    void auth_done(const auth_outcome& outcome);
    // authenticated_user - the AUTH login name, empty before a successful AUTH.
    const std::string& authenticated_user() const noexcept;
    // tls_started - the stream is now encrypted: after STARTTLS, forget HELO/EHLO
    //               and the transaction (RFC 3207 4.2); before greet(), implicit TLS.
    void tls_started();
    bool tls_active() const noexcept;

    input_phase phase() const noexcept;
    bool closed() const noexcept { return phase() == input_phase::closed; }
    // buffered - unprocessed input octets (STARTTLS must see zero: CVE-2011-0411).
    std::size_t buffered() const noexcept;
    // last_event - short key=value text describing the last notable event, for the log; cleared on read.
    std::vector<std::string> take_events();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace postrider::smtp
