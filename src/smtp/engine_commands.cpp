// smtp/engine_commands.cpp: the envelope and session commands of the engine.
//
// Trust: arguments are UNTRUSTED views into one framed line; they reach the
//        transaction only as values from address.hpp / esmtp_params.hpp.
//        Peer text echoed in replies or events goes through core::escape.
// Standards: RFC 5321 4.1.1.1-4.1.1.10 (commands), 4.1.4 (order), 4.5.1
//            (postmaster), 4.5.3.1.8 (recipients), 3.5.3 (VRFY); RFC 3207 (STARTTLS);
//            RFC 1870 (SIZE), 6531 3.4 (SMTPUTF8 on MAIL).
#include "smtp/engine_state.hpp"

#include <cstdio>
#include <cstdlib>

#include "core/escape.hpp"
#include "smtp/address.hpp"
#include "smtp/ehlo.hpp"

namespace postrider::smtp {

namespace {

// path_field - "from=<...>"/"rcpt=<...>" for an event, peer text escaped.
std::string path_field(std::string_view key, std::string_view path)
{
    if (path.size() >= 2 && path.front() == '<' && path.back() == '>')
        path = path.substr(1, path.size() - 2);
    return std::string(key) + "=<" + core::escape(path) + ">";
}

}  // namespace

// do_helo - RFC 5321 4.1.1.1: identify the client; EHLO also lists extensions. Resets the transaction.
void server_engine::impl::do_helo(const command& cmd, bool esmtp)
{
    if (cmd.arg.empty())
        return fail(501, "5.5.4", esmtp ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
    auto name = parse_helo_name(cmd.arg);
    if (!name)
        return fail(501, "5.5.2", "Error: invalid HELO/EHLO name", "helo=\"" + core::escape(cmd.arg, 64) + "\"");
    reset_transaction();
    helo_ = std::move(*name);
    protocol_ = esmtp ? "ESMTP" : "SMTP";
    ehlo_offer offer;
    offer.starttls = settings_.starttls && !tls_;
    offer.auth = settings_.auth && (tls_ || settings_.auth_plaintext);
    send(esmtp ? make_ehlo_reply(settings_.hostname, settings_.max_message_size, offer)
               : make_reply(250, "", settings_.hostname));
}

// do_mail - RFC 5321 4.1.1.2: start a transaction with a reverse-path and parameters.
void server_engine::impl::do_mail(const command& cmd)
{
    if (helo_.empty())
        return fail(503, "5.5.1", "Error: send HELO/EHLO first");
    if (tx_.has_mail)
        return fail(503, "5.5.1", "Error: nested MAIL command");
    // RFC 6409 4.3 / RFC 4954 6: the submission port takes mail only from authenticated users.
    if (settings_.auth_required && login_.empty())
        return fail(530, "5.7.0", "Authentication required");
    const auto arg = split_path_argument(cmd.arg, "FROM:");
    if (!arg.ok)
        return fail(501, "5.5.4", "Syntax: MAIL FROM:<address>");
    // RFC 5321 4.1.1.11: parameters only for extensions the server announced (EHLO).
    if (!arg.params.empty() && protocol_ != "ESMTP")
        return fail(555, "5.5.4", "Error: parameters need EHLO", path_field("from", arg.path));
    auto params = parse_mail_params(arg.params);
    if (!params.params)
        return fail(555, "5.5.4", params.error, path_field("from", arg.path));
    // XVERP rewrites the return path of every copy: only for clients that may relay, as
    // Postfix allows it ($mynetworks by default, authenticated users).
    if (params.params->xverp && login_.empty() && !settings_.relay_permitted)
        return fail(550, "5.7.1", "Error: insufficient authorization", path_field("from", arg.path));
    auto path = parse_reverse_path(arg.path, params.params->smtputf8);
    if (!path.ok())
        return address_failure(path.error, true, arg.path);
    // RFC 1870 6.1: refuse at MAIL time when the declared size is already too big.
    const auto declared = params.params->size;
    if (settings_.max_message_size && declared && *declared > settings_.max_message_size)
        return fail(552, "5.3.4", "Error: message size exceeds fixed limit", path_field("from", arg.path));
    const std::string sender = path.box ? path.box->str() : "";
    if (!sender_allowed(sender))
        return fail(553, "5.7.1", "<" + core::escape(sender, 128) + ">: Sender address rejected: not owned by user " +
                                      core::escape(login_, 64),
                    path_field("from", arg.path));
    tx_ = transaction{};
    tx_.has_mail = true;
    tx_.sender = sender;
    tx_.params = std::move(*params.params);
    ok(250, "2.1.0", "Ok");
}

// do_rcpt - RFC 5321 4.1.1.3: add one forward-path, as the recipient policy decides.
void server_engine::impl::do_rcpt(const command& cmd)
{
    if (!tx_.has_mail)
        return fail(503, "5.5.1", "Error: need MAIL command");
    if (tx_.bdat)
        return fail(503, "5.5.1", "Error: RCPT after BDAT");  // RFC 3030 2: data has begun
    const auto arg = split_path_argument(cmd.arg, "TO:");
    if (!arg.ok)
        return fail(501, "5.5.4", "Syntax: RCPT TO:<address>");
    if (!arg.params.empty() && protocol_ != "ESMTP")
        return fail(555, "5.5.4", "Error: parameters need EHLO", path_field("rcpt", arg.path));
    auto params = parse_rcpt_params(arg.params);
    if (!params.params)
        return fail(555, "5.5.4", params.error, path_field("rcpt", arg.path));
    auto path = parse_forward_path(arg.path, tx_.params.smtputf8, settings_.hostname);
    if (!path.ok())
        return address_failure(path.error, false, arg.path);
    ++tx_.rcpt_attempts;
    if (tx_.rcpts.size() >= settings_.max_recipients)
        return too_many_recipients();
    rcpt_verdict(*path.box, *params.params);
}

// rcpt_verdict - ask the recipient policy and answer (RFC 5321 4.2.2 / 3463 codes).
void server_engine::impl::rcpt_verdict(const mailbox& box, const rcpt_params& params)
{
    const auto addr = box.str();
    const auto field = "rcpt=<" + core::escape(addr) + ">";
    const auto shown = "<" + core::escape(addr, 128) + ">: ";
    switch (policy_.check(box.local(), box.domain())) {
    case rcpt_verdict::accept:
        tx_.rcpts.push_back(rcpt_entry{addr, params.orcpt, params.notify});
        return ok(250, "2.1.5", "Ok");
    case rcpt_verdict::unknown_user:
        return fail(550, "5.1.1", shown + "Recipient address rejected: User unknown", field);
    case rcpt_verdict::relay_denied:
        // Relay only for authenticated clients and mynetworks (Postfix permit_sasl_authenticated,
        // permit_mynetworks). The policy said the domain is neither ours nor a relay domain.
        if (!login_.empty() || settings_.relay_permitted) {
            tx_.rcpts.push_back(rcpt_entry{addr, params.orcpt, params.notify});
            return ok(250, "2.1.5", "Ok");
        }
        return fail(554, "5.7.1", shown + "Relay access denied", field);
    case rcpt_verdict::temp_failure:
        // Our table failed, not the client: not counted toward the error limit.
        return fail(451, "4.3.0", shown + "Temporary lookup failure", field, false);
    }
}

// too_many_recipients - RFC 5321 4.5.3.1.10: 452; counted as an error only past the overshoot.
void server_engine::impl::too_many_recipients()
{
    ++overshoot_;
    fail(452, "4.5.3", "Error: too many recipients", {}, overshoot_ > recipient_overshoot);
}

// address_failure - reply for an unusable path (Postfix codes: 501 5.1.7 sender, 501 5.1.3 recipient).
void server_engine::impl::address_failure(address_error e, bool sender, std::string_view path)
{
    const auto field = path_field(sender ? "from" : "rcpt", path);
    const std::string_view status = sender ? "5.1.7" : "5.1.3";
    switch (e) {
    case address_error::needs_smtputf8:
        // RFC 6531 3.6.1 / Postfix: non-ASCII address without SMTPUTF8 on MAIL.
        return fail(553, "5.6.7", "Error: must declare SMTPUTF8 to send unicode address", field);
    case address_error::too_long:
        return fail(501, status, "Error: address too long", field);
    default:
        return fail(501, status, sender ? "Error: bad sender address syntax" : "Error: bad recipient address syntax",
                    field);
    }
}

// do_rset - RFC 5321 4.1.1.5: abort the transaction; nothing accumulates.
void server_engine::impl::do_rset(const command& cmd)
{
    if (!cmd.arg.empty())
        return fail(501, "5.5.4", "Syntax: RSET");
    reset_transaction();
    ok(250, "2.0.0", "Ok");
}

// do_quit - RFC 5321 4.1.1.10: 221 and close; input after QUIT is never read.
void server_engine::impl::do_quit(const command& cmd)
{
    if (!cmd.arg.empty())
        return fail(501, "5.5.4", "Syntax: QUIT");
    ok(221, "2.0.0", "Bye");
    phase_ = input_phase::closed;
    reset_transaction();
    lines_.reset();
}

// do_vrfy - RFC 5321 3.5.3: 252, disclosing nothing about local users.
void server_engine::impl::do_vrfy(const command& cmd)
{
    if (cmd.arg.empty())
        return fail(501, "5.5.4", "Syntax: VRFY address");
    ok(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
}

// do_starttls - RFC 3207 4: 220, then the engine discards input until the session calls
//               tls_started(). Pipelined commands after STARTTLS are never answered.
void server_engine::impl::do_starttls(const command& cmd)
{
    if (!settings_.starttls)
        return fail(502, "5.5.1", "Error: command not implemented");
    if (tls_)
        return fail(554, "5.5.1", "Error: TLS already active");  // RFC 3207 4: no second STARTTLS
    if (!cmd.arg.empty())
        return fail(501, "5.5.4", "Syntax: STARTTLS");
    // Postfix refuses it mid-transaction too: the envelope so far was sent in the clear.
    if (tx_.has_mail)
        return fail(503, "5.5.1", "Error: MAIL transaction in progress");
    ok(220, "2.0.0", "Ready to start TLS");
    phase_ = input_phase::starttls;
    lines_.reset();
}

// do_auth - RFC 4954 4: start a PLAIN or LOGIN exchange (only after TLS unless allowed in plaintext).
void server_engine::impl::do_auth(const command& cmd)
{
    if (!settings_.auth)
        return fail(502, "5.5.1", "Error: command not implemented");
    if (helo_.empty())
        return fail(503, "5.5.1", "Error: send HELO/EHLO first");
    // RFC 4954 6: 538 when the mechanism needs an encrypted channel; ours all send the password.
    if (!tls_ && !settings_.auth_plaintext)
        return fail(538, "5.7.11", "Encryption required for requested authentication mechanism");
    if (!login_.empty())
        return fail(503, "5.5.1", "Error: already authenticated");
    if (tx_.has_mail)
        return fail(503, "5.5.1", "Error: MAIL transaction in progress");
    const auto sp = cmd.arg.find(' ');
    const auto name = cmd.arg.substr(0, sp);
    std::optional<std::string_view> initial;
    if (sp != std::string_view::npos)
        initial = cmd.arg.substr(sp + 1);
    if (name.empty() || (initial && (initial->empty() || initial->find(' ') != std::string_view::npos)))
        return fail(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
    const auto mech = parse_sasl_mechanism(name);
    if (!mech)
        return fail(504, "5.5.4", "Error: unsupported authentication mechanism");
    sasl_mech_ = *mech;
    sasl_.emplace(*mech);
    on_sasl_step(sasl_->start(initial));
}

// on_sasl_step - 334 for another round, or hand the credentials to the session, or fail the exchange.
void server_engine::impl::on_sasl_step(sasl_step step)
{
    switch (step.what) {
    case sasl_step::kind::challenge:
        return send(make_reply(334, "", step.challenge));
    case sasl_step::kind::done:
        sasl_.reset();
        last_login_ = step.credentials.authcid;
        pending_auth_ = auth_request{sasl_mech_, std::move(step.credentials)};
        phase_ = input_phase::awaiting_auth;
        return;
    case sasl_step::kind::cancelled:
        sasl_.reset();
        return fail(501, "5.7.0", "Authentication aborted");
    case sasl_step::kind::bad_base64:
        sasl_.reset();
        return fail(501, "5.5.2", "Error: cannot decode response");
    case sasl_step::kind::malformed:
        sasl_.reset();
        return fail(535, "5.7.8", "Error: authentication failed");
    }
}

// auth_done - the session's verdict on the credentials (RFC 4954 6 codes), then the held input.
void server_engine::impl::auth_done(const auth_outcome& outcome)
{
    if (phase_ == input_phase::closed)
        return;
    if (phase_ != input_phase::awaiting_auth) {
        std::fputs("postrider: smtp::server_engine::auth_done outside awaiting_auth\n", stderr);
        std::abort();  // STYLE B.7: a session bug, crash loudly
    }
    phase_ = input_phase::command;
    verb_ = "AUTH";
    const std::string method = sasl_mech_ == sasl_mechanism::plain ? "PLAIN" : "LOGIN";
    switch (outcome.what) {
    case auth_outcome::result::ok:
        login_ = last_login_;
        login_senders_ = outcome.senders;
        ok(235, "2.7.0", "Authentication successful");
        event("auth=ok method=" + method + " user=\"" + core::escape(login_, 64) + "\"");
        break;
    case auth_outcome::result::invalid:
        fail(535, "5.7.8", "Error: authentication failed",
             "method=" + method + " user=\"" + core::escape(last_login_, 64) + "\"");
        break;
    case auth_outcome::result::temp_failure:
        fail(454, "4.7.0", "Temporary authentication failure", "method=" + method, false);
        break;
    case auth_outcome::result::too_many_failures:
        close_with("4.7.0", "Error: too many failed authentications, try again later", "auth_failures");
        return;
    }
    last_login_.clear();
    resume_held();
}

// sender_allowed - sender_login_match: the null sender, or an address listed for the login.
bool server_engine::impl::sender_allowed(const std::string& sender) const
{
    if (!settings_.sender_login_match || login_.empty() || sender.empty())
        return true;
    for (const auto& s : login_senders_)
        if (iequals(s, sender))
            return true;
    return false;
}

}  // namespace postrider::smtp
