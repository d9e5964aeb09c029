// smtp/engine_commands.cpp: the envelope and session commands of the engine.
//
// Trust: arguments are UNTRUSTED views into one framed line; they reach the
//        transaction only as values from address.hpp / esmtp_params.hpp.
//        Peer text echoed in replies or events goes through core::escape.
// Standards: RFC 5321 4.1.1.1-4.1.1.10 (commands), 4.1.4 (order), 4.5.1
//            (postmaster), 4.5.3.1.8 (recipients), 3.5.3 (VRFY);
//            RFC 1870 (SIZE), 6531 3.4 (SMTPUTF8 on MAIL).
#include "smtp/engine_state.hpp"

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
    send(esmtp ? make_ehlo_reply(settings_.hostname, settings_.max_message_size)
               : make_reply(250, "", settings_.hostname));
}

// do_mail - RFC 5321 4.1.1.2: start a transaction with a reverse-path and parameters.
void server_engine::impl::do_mail(const command& cmd)
{
    if (helo_.empty())
        return fail(503, "5.5.1", "Error: send HELO/EHLO first");
    if (tx_.has_mail)
        return fail(503, "5.5.1", "Error: nested MAIL command");
    const auto arg = split_path_argument(cmd.arg, "FROM:");
    if (!arg.ok)
        return fail(501, "5.5.4", "Syntax: MAIL FROM:<address>");
    // RFC 5321 4.1.1.11: parameters only for extensions the server announced (EHLO).
    if (!arg.params.empty() && protocol_ != "ESMTP")
        return fail(555, "5.5.4", "Error: parameters need EHLO", path_field("from", arg.path));
    auto params = parse_mail_params(arg.params);
    if (!params.params)
        return fail(555, "5.5.4", params.error, path_field("from", arg.path));
    auto path = parse_reverse_path(arg.path, params.params->smtputf8);
    if (!path.ok())
        return address_failure(path.error, true, arg.path);
    // RFC 1870 6.1: refuse at MAIL time when the declared size is already too big.
    const auto declared = params.params->size;
    if (settings_.max_message_size && declared && *declared > settings_.max_message_size)
        return fail(552, "5.3.4", "Error: message size exceeds fixed limit", path_field("from", arg.path));
    tx_ = transaction{};
    tx_.has_mail = true;
    tx_.sender = path.box ? path.box->str() : "";
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

}  // namespace postrider::smtp
