// smtp/engine_transfer.cpp: DATA, BDAT and the commit hand-off.
//
// Trust: message octets are UNTRUSTED; they pass only through data_decoder /
//        chunk_decoder into the size-bounded message_sink. A rejected BDAT
//        chunk is still counted off the stream (RFC 3030 2), so its octets can
//        never be read as commands. A chunk size that does not parse cannot be
//        skipped safely, so the session is closed (421) rather than guessing.
// Standards: RFC 5321 4.1.1.4 (DATA), 4.5.3.1.10 (552), RFC 3030 2-4
//            (BDAT), RFC 1870 6.3 (size exceeded while receiving).
#include "smtp/engine_state.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/escape.hpp"

namespace postrider::smtp {

// do_data - RFC 5321 4.1.1.4: 354 and switch to the DATA decoder.
void server_engine::impl::do_data(const command& cmd, bool crlf)
{
    if (!cmd.arg.empty())
        return fail(501, "5.5.4", "Syntax: DATA");
    if (!tx_.has_mail)
        return fail(503, "5.5.1", "Error: need MAIL command");
    if (tx_.bdat)
        return fail(503, "5.5.1", "Error: DATA after BDAT");  // RFC 3030 2: not in one transaction
    if (tx_.rcpts.empty())
        return fail(503, "5.5.1", tx_.rcpt_attempts ? "Error: no valid recipients" : "Error: need RCPT command");
    ok(354, "", "End data with <CR><LF>.<CR><LF>");
    sink_.reset(size_limit());
    data_.start(crlf);
    phase_ = input_phase::data;
}

// on_data_input - decode body octets; at end of data, 552 or hand the message over.
void server_engine::impl::on_data_input(std::string_view& in)
{
    if (!data_.consume(in, sink_))
        return;
    log_line_ends(data_.bare_line_ends(), data_.nul_octets());
    phase_ = input_phase::command;
    if (sink_.overflow()) {
        reset_transaction();
        verb_ = "DATA";
        return fail(552, "5.3.4", "Error: message size exceeds fixed limit");
    }
    finish_message();
}

// log_line_ends - events for normalised bare CR/LF (smuggling attempts) and NULs.
void server_engine::impl::log_line_ends(std::size_t bare, std::size_t nuls)
{
    if (bare)
        event("protocol=bare_line_end_in_data count=" + std::to_string(bare));
    if (nuls)
        event("protocol=nul_in_data count=" + std::to_string(nuls));
}

// do_bdat - RFC 3030 2: a chunk of exactly n octets follows, whatever our answer.
void server_engine::impl::do_bdat(const command& cmd)
{
    const auto b = parse_bdat(cmd.arg);
    if (!b.count_ok) {
        event("reject=BDAT code=421 dsn=4.7.0 arg=\"" + core::escape(cmd.arg, 64) + "\"");
        return close_with("4.7.0", "Error: invalid BDAT chunk size, closing", "bad_bdat_size");
    }
    chunk_ = chunk_state{b.count, b.last, bdat_precheck(b)};
    if (!chunk_.reject && !tx_.bdat) {
        tx_.bdat = true;
        sink_.reset(size_limit());
        chunks_.start();
    }
    phase_ = input_phase::bdat_chunk;
    if (chunk_.remaining == 0)
        end_of_chunk();
}

// bdat_precheck - the reply that will replace 250 for this chunk, if any.
std::optional<reply> server_engine::impl::bdat_precheck(const bdat_argument& b) const
{
    if (!b.syntax_ok)
        return make_reply(501, "5.5.4", "Syntax: BDAT count [LAST]");
    if (!tx_.has_mail)
        return make_reply(503, "5.5.1", "Error: need MAIL command");
    if (tx_.rcpts.empty())
        return make_reply(503, "5.5.1", tx_.rcpt_attempts ? "Error: no valid recipients" : "Error: need RCPT command");
    return tx_.bdat_failure;
}

// on_chunk_input - count chunk octets off the stream; store them unless rejected.
void server_engine::impl::on_chunk_input(std::string_view& in)
{
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_.remaining, in.size()));
    if (!chunk_.reject)
        chunks_.consume(in.substr(0, n), sink_);
    in.remove_prefix(n);
    chunk_.remaining -= n;
    if (chunk_.remaining == 0)
        end_of_chunk();
}

// end_of_chunk - answer the chunk: its rejection, 552, 250, or (LAST) the message.
void server_engine::impl::end_of_chunk()
{
    phase_ = input_phase::command;
    verb_ = "BDAT";
    if (chunk_.reject) {
        // A failed transaction's last chunk ends it (RFC 3030 2: the client sends RSET or a new MAIL).
        if (chunk_.last && tx_.bdat_failure)
            reset_transaction();
        return fail(*chunk_.reject);
    }
    if (chunk_.last)
        chunks_.finish(sink_);
    if (sink_.overflow()) {
        auto r = make_reply(552, "5.3.4", "Error: message size exceeds fixed limit");
        tx_.bdat_failure = r;
        sink_.release();
        if (chunk_.last)
            reset_transaction();
        return fail(r);
    }
    if (!chunk_.last)
        return ok(250, "2.0.0", "Ok: " + std::to_string(sink_.size()) + " octets received");
    log_line_ends(chunks_.bare_line_ends(), 0);
    finish_message();
}

// finish_message - the data is complete: build the message and wait for the queue.
void server_engine::impl::finish_message()
{
    accepted_message m;
    m.helo = helo_;
    // RFC 3848: ESMTP + S (TLS) + A (AUTH). HELO stays SMTP (3848 names no other form for it).
    m.protocol = protocol_ == "ESMTP" ? protocol_ + (tls_ ? "S" : "") + (login_.empty() ? "" : "A") : protocol_;
    m.auth_user = login_;
    m.sender = std::move(tx_.sender);
    m.recipients = std::move(tx_.rcpts);
    m.body_8bit = tx_.params.body == body_type::eight_bit_mime;
    m.smtputf8 = tx_.params.smtputf8;
    m.envid = std::move(tx_.params.envid);
    m.ret_full = tx_.params.ret_full;
    if (tx_.params.xverp) m.verp_delimiters = tx_.params.xverp->empty() ? settings_.verp_delimiters : *tx_.params.xverp;
    m.data = sink_.take();
    ready_ = std::move(m);
    reset_transaction();
    phase_ = input_phase::awaiting_commit;
}

// commit_done - RFC 5321 4.1.1.4 / STYLE B.7.4: 250 only now, after the durable commit; then resume.
void server_engine::impl::commit_done(const commit_outcome& outcome)
{
    if (phase_ == input_phase::closed)
        return;  // peer_closed() came first; the session may still queue the message
    if (phase_ != input_phase::awaiting_commit) {
        std::fputs("postrider: smtp::server_engine::commit_done outside awaiting_commit\n", stderr);
        std::abort();  // STYLE B.7: a session bug, crash loudly
    }
    ready_.reset();
    phase_ = input_phase::command;
    verb_ = "DATA";
    if (outcome.ok)
        ok(250, "2.0.0", "Ok: queued as " + core::escape(outcome.queue_id, 64));
    else if (outcome.insufficient_storage)
        // RFC 5321 4.2.2 / RFC 3463 X.3.1: 452 "insufficient system storage"; temporary,
        // and not counted as a client error (the client did nothing wrong).
        fail(452, "4.3.1", "Insufficient system storage", "commit=failed reason=storage", false);
    else
        fail(451, "4.3.0", "Error: " + core::escape(outcome.reason, 200), "commit=failed", false);
    if (after_commit_) {
        send(*after_commit_);
        event("close=after_commit");
        phase_ = input_phase::closed;
        lines_.reset();
        std::string().swap(held_);
        return;
    }
    resume_held();
}

// resume_held - process the input that arrived while waiting for the queue or the password check.
void server_engine::impl::resume_held()
{
    std::string held;
    held.swap(held_);
    process(held);
}

}  // namespace postrider::smtp
