// smtp/engine_state.hpp: server_engine's private state (internal header).
//
// Owns: the engine's members and the declarations of its internal steps,
//       split across server_engine.cpp (API, input loop, replies),
//       engine_commands.cpp (command handlers) and engine_transfer.cpp
//       (DATA/BDAT and the commit hand-off).
// Trust: as server_engine.hpp: all input UNTRUSTED; every buffer here is
//        bounded (line_reader by the command line limit, message_sink by the
//        size limit, held_ by held_input_octets, events_ by the input that
//        caused them and drained by take_events()).
// Standards: RFC 5321 4.1.4 (command order), 3030 (CHUNKING).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/address.hpp"
#include "smtp/chunk_decoder.hpp"
#include "smtp/command.hpp"
#include "smtp/data_decoder.hpp"
#include "smtp/esmtp_params.hpp"
#include "smtp/line_reader.hpp"
#include "smtp/message_sink.hpp"
#include "smtp/sasl_server.hpp"
#include "smtp/reply.hpp"
#include "smtp/server_engine.hpp"

namespace postrider::smtp {

// Octets held while a commit is in flight. The session does not read while
// awaiting the commit, so this is the tail of one read; larger means a
// session bug or a peer flooding: we answer 421 after the commit reply.
inline constexpr std::size_t held_input_octets = 256 * 1024;
// Postfix smtpd_recipient_overshoot_limit: 452s past the recipient limit that
// are not yet counted as errors (a big pipelined RCPT list is not abuse).
inline constexpr std::size_t recipient_overshoot = 1000;
// Used when settings.max_message_size is 0 ("no limit advertised"): memory
// still needs a bound, because the message is held in memory until commit.
inline constexpr std::uint64_t unlimited_message_ceiling = 1024ull * 1024 * 1024;

struct transaction {
    bool has_mail = false;
    std::string sender;
    mail_params params;
    std::vector<rcpt_entry> rcpts;
    std::size_t rcpt_attempts = 0;  // syntactically valid RCPTs, accepted or not
    bool bdat = false;              // a BDAT was accepted: no DATA or RCPT until the end
    std::optional<reply> bdat_failure;  // answer for the remaining chunks after a failed one
};

struct chunk_state {
    std::uint64_t remaining = 0;  // octets of the current chunk still to come
    bool last = false;
    std::optional<reply> reject;  // consume the chunk, then send this instead of storing
};

struct server_engine::impl {
    impl(const server_settings& settings, const recipient_policy& policy, std::string peer);

    // Input loop (server_engine.cpp).
    void process(std::string_view in);
    void on_command_input(std::string_view& in);
    void hold(std::string_view in);
    void handle_line(const framed_line& line);
    void dispatch(const command& cmd, bool crlf);

    // Replies and bookkeeping (server_engine.cpp).
    void send(const reply& r);
    void ok(int code, std::string_view status, std::string_view text);
    void fail(const reply& r, std::string_view field = {}, bool counts = true);
    void fail(int code, std::string_view status, std::string_view text, std::string_view field = {},
              bool counts = true);
    void close_with(std::string_view status, std::string_view text, std::string_view why);
    void event(std::string text);
    void reset_transaction();
    std::uint64_t size_limit() const noexcept;

    // Commands (engine_commands.cpp).
    void do_helo(const command& cmd, bool esmtp);
    void do_mail(const command& cmd);
    void do_rcpt(const command& cmd);
    void rcpt_verdict(const mailbox& box, const rcpt_params& params);
    void too_many_recipients();
    void address_failure(address_error e, bool sender, std::string_view path);
    void do_rset(const command& cmd);
    void do_quit(const command& cmd);
    void do_vrfy(const command& cmd);
    void do_starttls(const command& cmd);
    void do_auth(const command& cmd);
    void on_sasl_step(sasl_step step);
    bool sender_allowed(const std::string& sender) const;
    void auth_done(const auth_outcome& outcome);
    void resume_held();
    void discard(std::string_view& in);

    // Transfer (engine_transfer.cpp).
    void do_data(const command& cmd, bool crlf);
    void on_data_input(std::string_view& in);
    void do_bdat(const command& cmd);
    std::optional<reply> bdat_precheck(const bdat_argument& b) const;
    void on_chunk_input(std::string_view& in);
    void end_of_chunk();
    void finish_message();
    void commit_done(const commit_outcome& outcome);
    void log_line_ends(std::size_t bare, std::size_t nuls);

    server_settings settings_;
    const recipient_policy& policy_;
    std::string peer_;
    input_phase phase_ = input_phase::command;
    line_reader lines_{limits::command_line_octets};
    data_decoder data_;
    chunk_decoder chunks_;
    message_sink sink_;
    chunk_state chunk_;
    transaction tx_;
    std::string helo_;      // empty until HELO/EHLO
    std::string protocol_;  // "SMTP" or "ESMTP"
    bool tls_ = false;      // the stream is encrypted (STARTTLS done, or implicit TLS)
    std::optional<sasl_exchange> sasl_;  // an AUTH exchange in progress: lines are SASL responses
    sasl_mechanism sasl_mech_ = sasl_mechanism::plain;
    std::optional<auth_request> pending_auth_;  // SECRET: credentials awaiting auth_done()
    std::string login_;                          // authenticated user, empty before AUTH
    std::string last_login_;                     // the login name being checked (for replies and events)
    std::vector<std::string> login_senders_;     // sender addresses login_ may use
    std::size_t discarded_ = 0;  // octets pipelined after STARTTLS, thrown away (CVE-2011-0411)
    std::optional<accepted_message> ready_;
    std::string held_;  // input that arrived while awaiting_commit
    std::string out_;
    std::vector<std::string> events_;
    std::size_t errors_ = 0;
    std::size_t overshoot_ = 0;
    bool bare_lf_logged_ = false;
    std::optional<reply> after_commit_;  // 421 deferred by timeout()/shutdown()/overflow during a commit
    std::string_view verb_ = "CONNECT";  // current command, for events
};

}  // namespace postrider::smtp
