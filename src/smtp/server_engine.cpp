// smtp/server_engine.cpp: public API, input loop and reply bookkeeping of the engine.
//
// Trust: see server_engine.hpp. This file routes UNTRUSTED bytes to the
//        bounded framers (line_reader, data_decoder, BDAT counting) and never
//        keeps raw input beyond held_ (bounded by held_input_octets).
// Standards: RFC 5321 3.1 (greeting), 4.1.4 (order), 4.2 (replies),
//            4.3.2 (421 and closing), RFC 2920 (pipelined input is processed
//            in order and the replies batched), RFC 3207 (STARTTLS).
#include "smtp/engine_state.hpp"

#include <cstdlib>

#include "core/escape.hpp"
#include "smtp/ehlo.hpp"

namespace postrider::smtp {

server_engine::impl::impl(const server_settings& settings, const recipient_policy& policy, std::string peer)
    : settings_(settings), policy_(policy), peer_(std::move(peer))
{
}

// process - run input through whichever framer the phase calls for.
void server_engine::impl::process(std::string_view in)
{
    while (!in.empty()) {
        switch (phase_) {
        case input_phase::command: on_command_input(in); break;
        case input_phase::data: on_data_input(in); break;
        case input_phase::bdat_chunk: on_chunk_input(in); break;
        case input_phase::awaiting_commit: hold(in); return;
        case input_phase::starttls: discard(in); return;
        case input_phase::awaiting_auth: hold(in); return;
        case input_phase::closed: return;
        }
    }
}

// on_command_input - frame one command line (or use up in) and act on it.
void server_engine::impl::on_command_input(std::string_view& in)
{
    if (auto line = lines_.next(in))
        handle_line(*line);
}

// hold - keep input for after the commit (PIPELINING: the next MAIL may be here).
void server_engine::impl::hold(std::string_view in)
{
    if (after_commit_)
        return;  // already closing after the commit: the rest is never read
    if (held_.size() + in.size() > held_input_octets) {
        std::string().swap(held_);
        after_commit_ = make_reply(421, "4.7.0", settings_.hostname + " Error: too much pipelined input");
        event("close=pipelined_input_overflow");
        return;
    }
    held_.append(in);
}

// discard - bytes that came after STARTTLS in the clear: never processed, only counted.
//           A man in the middle could have injected them (CVE-2011-0411).
void server_engine::impl::discard(std::string_view& in)
{
    discarded_ += in.size();
    in = {};
}

// handle_line - reject unusable lines, else parse and dispatch the command.
void server_engine::impl::handle_line(const framed_line& line)
{
    if (sasl_) {
        // RFC 4954 4: inside an exchange every line is a response, never a command.
        verb_ = "AUTH";
        if (line.too_long) {
            sasl_.reset();
            return fail(500, "5.5.2", "Error: line too long");
        }
        return on_sasl_step(sasl_->respond(line.text));
    }
    verb_ = "UNKNOWN";
    if (line.bare_lf && !bare_lf_logged_) {
        bare_lf_logged_ = true;  // once per session: a hint, not an error
        event("protocol=bare_lf_in_command");
    }
    if (line.too_long)
        return fail(500, "5.5.2", "Error: line too long");
    if (line.text.find('\0') != std::string_view::npos)
        return fail(500, "5.5.2", "Error: NUL character in command");
    const auto cmd = parse_command(line.text);
    verb_ = verb_name(cmd.kind);
    dispatch(cmd, !line.bare_lf);
}

// dispatch - one command to its handler (RFC 5321 4.1.1).
void server_engine::impl::dispatch(const command& cmd, bool crlf)
{
    switch (cmd.kind) {
    case verb::helo: return do_helo(cmd, false);
    case verb::ehlo: return do_helo(cmd, true);
    case verb::mail: return do_mail(cmd);
    case verb::rcpt: return do_rcpt(cmd);
    case verb::data: return do_data(cmd, crlf);
    case verb::bdat: return do_bdat(cmd);
    case verb::rset: return do_rset(cmd);
    case verb::noop: return ok(250, "2.0.0", "Ok");
    case verb::quit: return do_quit(cmd);
    case verb::vrfy: return do_vrfy(cmd);
    case verb::help: return ok(214, "2.0.0", "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
    // RFC 5321 3.5.3: EXPN may be disabled; 502 discloses no list membership.
    case verb::expn: return fail(502, "5.5.1", "Error: command not implemented");
    case verb::starttls: return do_starttls(cmd);
    case verb::auth: return do_auth(cmd);
    case verb::not_implemented: return fail(502, "5.5.1", "Error: command not implemented");
    case verb::empty: return fail(500, "5.5.2", "Error: bad syntax");
    case verb::unknown:
        return fail(500, "5.5.2", "Error: command not recognized", "line=\"" + core::escape(cmd.name, 64) + "\"");
    }
}

void server_engine::impl::send(const reply& r)
{
    out_ += format_reply(r);
}

void server_engine::impl::ok(int code, std::string_view status, std::string_view text)
{
    send(make_reply(code, status, text));
}

void server_engine::impl::fail(int code, std::string_view status, std::string_view text, std::string_view field,
                               bool counts)
{
    fail(make_reply(code, status, text), field, counts);
}

// fail - send a 4xx/5xx, log it, and count it toward the hard error limit
//        (Postfix smtpd_hard_error_limit: 421 right after the limit is reached).
void server_engine::impl::fail(const reply& r, std::string_view field, bool counts)
{
    send(r);
    std::string e = "reject=" + std::string(verb_) + " code=" + std::to_string(r.code) + " dsn=" + r.status;
    if (!field.empty())
        e.append(" ").append(field);
    e += " reason=\"" + core::escape(r.lines.empty() ? "" : r.lines.front()) + "\"";
    event(std::move(e));
    if (counts && ++errors_ >= settings_.hard_error_limit)
        close_with("4.7.0", "Error: too many errors", "too_many_errors");
}

// close_with - 421 (RFC 5321 3.8: the only reply sent before closing unasked), then closed.
void server_engine::impl::close_with(std::string_view status, std::string_view text, std::string_view why)
{
    send(make_reply(421, status, settings_.hostname + " " + std::string(text)));
    event("close=" + std::string(why));
    phase_ = input_phase::closed;
    reset_transaction();
    lines_.reset();
    sasl_.reset();
    pending_auth_.reset();
    std::string().swap(held_);
}

void server_engine::impl::event(std::string text)
{
    events_.push_back(std::move(text));
}

// reset_transaction - RFC 5321 4.1.1.5 / 4.1.4: forget sender, recipients and data.
void server_engine::impl::reset_transaction()
{
    tx_ = transaction{};
    sink_.release();
}

// size_limit - octets a message may have in memory (see unlimited_message_ceiling).
std::uint64_t server_engine::impl::size_limit() const noexcept
{
    return settings_.max_message_size ? settings_.max_message_size : unlimited_message_ceiling;
}

// ---- public API -----------------------------------------------------------

server_engine::server_engine(const server_settings& settings, const recipient_policy& policy,
                             std::string peer_address)
    : impl_(std::make_unique<impl>(settings, policy, std::move(peer_address)))
{
}

server_engine::~server_engine() = default;

void server_engine::greet()
{
    // RFC 5321 4.2: no enhanced code on the greeting (the client has not asked yet).
    impl_->ok(220, "", impl_->settings_.hostname + " ESMTP postrider");
}

void server_engine::refuse(std::string_view text)
{
    impl_->close_with("4.7.0", core::escape(text), "refused");
}

void server_engine::feed(std::string_view bytes)
{
    impl_->process(bytes);
}

std::string server_engine::take_output()
{
    std::string out;
    out.swap(impl_->out_);
    return out;
}

std::optional<accepted_message> server_engine::take_message()
{
    if (impl_->phase_ != input_phase::awaiting_commit || !impl_->ready_)
        return std::nullopt;
    auto m = std::move(impl_->ready_);
    impl_->ready_.reset();
    return m;
}

void server_engine::commit_done(const commit_outcome& outcome)
{
    impl_->commit_done(outcome);
}

void server_engine::timeout()
{
    auto& s = *impl_;
    if (s.phase_ == input_phase::awaiting_commit)
        s.after_commit_ = make_reply(421, "4.4.2", s.settings_.hostname + " Error: timeout exceeded");
    else if (s.phase_ != input_phase::closed)
        s.close_with("4.4.2", "Error: timeout exceeded", "timeout");
}

void server_engine::shutdown()
{
    auto& s = *impl_;
    // Never 421 in place of the commit answer: the client would retry a message we may have queued.
    if (s.phase_ == input_phase::awaiting_commit)
        s.after_commit_ = make_reply(421, "4.3.2", s.settings_.hostname + " Service shutting down");
    else if (s.phase_ != input_phase::closed)
        s.close_with("4.3.2", "Service shutting down", "shutdown");
}

void server_engine::peer_closed()
{
    auto& s = *impl_;
    if (s.phase_ == input_phase::closed)
        return;
    if (s.phase_ == input_phase::data || s.phase_ == input_phase::bdat_chunk)
        s.event("close=lost_connection phase=" + std::string(s.phase_ == input_phase::data ? "DATA" : "BDAT"));
    else if (s.tx_.has_mail)
        s.event("close=lost_connection phase=transaction");
    s.phase_ = input_phase::closed;
    s.ready_.reset();
    s.pending_auth_.reset();
    s.sasl_.reset();
    s.reset_transaction();
    s.lines_.reset();
    std::string().swap(s.held_);
}

std::optional<auth_request> server_engine::take_auth()
{
    if (impl_->phase_ != input_phase::awaiting_auth || !impl_->pending_auth_)
        return std::nullopt;
    auto a = std::move(impl_->pending_auth_);
    impl_->pending_auth_.reset();
    return a;
}

void server_engine::auth_done(const auth_outcome& outcome)
{
    impl_->auth_done(outcome);
}

const std::string& server_engine::authenticated_user() const noexcept
{
    return impl_->login_;
}

void server_engine::tls_started()
{
    auto& s = *impl_;
    if (s.phase_ == input_phase::closed)
        return;
    s.tls_ = true;
    if (s.discarded_) {
        s.event("protocol=pipelined_after_starttls discarded=" + std::to_string(s.discarded_));
        s.discarded_ = 0;
    }
    if (s.phase_ != input_phase::starttls)
        return;  // implicit TLS: called before greet(), nothing to forget
    // RFC 3207 4.2: the client must start over; nothing learnt in the clear is kept.
    s.helo_.clear();
    s.protocol_.clear();
    s.login_.clear();
    s.login_senders_.clear();
    s.reset_transaction();
    s.lines_.reset();
    s.phase_ = input_phase::command;
}

bool server_engine::tls_active() const noexcept
{
    return impl_->tls_;
}

input_phase server_engine::phase() const noexcept
{
    return impl_->phase_;
}

std::size_t server_engine::buffered() const noexcept
{
    return impl_->held_.size() + impl_->lines_.buffered();
}

std::vector<std::string> server_engine::take_events()
{
    std::vector<std::string> out;
    out.swap(impl_->events_);
    return out;
}

}  // namespace postrider::smtp
