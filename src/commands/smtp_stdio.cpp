// commands/smtp_stdio.cpp: sendmail -bs (see smtp_stdio.hpp).
#include "commands/smtp_stdio.hpp"

#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "commands/local_user.hpp"
#include "commands/submit_drop.hpp"
#include "pickup/validate.hpp"
#include "queue/queue_id.hpp"
#include "sendmail/headers.hpp"
#include "smtp/server_engine.hpp"

namespace postrider::commands {
namespace {

// accept_all - the wrapper has no mailbox table: recipients are checked by the
// daemon's delivery (unknown local users bounce), as with Postfix's sendmail.
class accept_all final : public smtp::recipient_policy {
public:
    smtp::rcpt_verdict check(std::string_view, std::string_view) const override { return smtp::rcpt_verdict::accept; }
};

// write_out - every pending reply to fd 1; false when stdout is gone.
bool write_out(smtp::server_engine& engine)
{
    std::string out = engine.take_output();
    std::string_view rest = out;
    while (!rest.empty()) {
        auto n = ::write(1, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// completion_for - From: falls back to the envelope sender (or the login for <>).
sendmail::completion completion_for(const smtp::accepted_message& m, const config::settings& s)
{
    sendmail::completion c;
    auto at = m.sender.rfind('@');
    if (!m.sender.empty() && at != std::string::npos) {
        c.login = m.sender.substr(0, at);
        c.domain = m.sender.substr(at + 1);
    } else {
        auto u = current_user();
        c.login = u ? u->login : "MAILER-DAEMON";
        c.domain = origin_domain(s);
        if (u) c.full_name = u->full_name;
    }
    c.unique = queue::queue_id_generator().next();
    c.now = std::time(nullptr);
    return c;
}

// commit - the accepted transaction becomes a maildrop file; the engine gets 250 or 451.
smtp::commit_outcome commit(smtp::accepted_message m, const config::settings& s)
{
    if (auto why = pickup::check_content(m.data); !why.empty()) return {false, {}, why, false};
    pickup::dropped_message d;
    d.sender = m.sender;
    for (auto& r : m.recipients) d.recipients.push_back({std::move(r.address), r.notify});
    d.envid = m.envid;
    d.ret_full = m.ret_full;
    d.verp = !m.verp_delimiters.empty();
    d.verp_delimiters = m.verp_delimiters;
    d.body_8bit = m.body_8bit;
    d.smtputf8 = m.smtputf8;
    d.protocol = m.protocol;
    d.helo = m.helo;
    d.content = sendmail::complete(sendmail::split_headers(m.data), completion_for(m, s));
    auto dropped = drop_message(s, d);
    if (dropped.status != EX_OK) return {false, {}, "maildrop write failed: " + dropped.error, false};
    return {true, dropped.name, {}, false};
}

}  // namespace

int smtp_stdio(const config::settings& s)
{
    smtp::server_settings ss;
    ss.hostname = our_hostname(s);
    ss.max_message_size = s.message_size_limit;
    ss.max_recipients = s.recipient_limit;
    ss.hard_error_limit = s.hard_error_limit;
    ss.verp_delimiters = s.verp_delimiters;
    accept_all policy;
    smtp::server_engine engine(ss, policy, "127.0.0.1");
    engine.greet();
    if (!write_out(engine)) return EX_IOERR;
    char buf[16384];
    while (!engine.closed()) {
        if (engine.phase() == smtp::input_phase::awaiting_commit) {
            if (auto m = engine.take_message()) engine.commit_done(commit(std::move(*m), s));
        } else {
            auto n = ::read(0, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                engine.peer_closed();
                break;
            }
            engine.feed(std::string_view(buf, static_cast<std::size_t>(n)));
        }
        if (!write_out(engine)) return EX_IOERR;
    }
    return EX_OK;
}

}  // namespace postrider::commands
