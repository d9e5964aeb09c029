// commands/sendmail_cmd.cpp: sendmail(1): flags, stdin message, maildrop write.
//
// Trust: see commands.hpp. Every check that can refuse the message runs
//        before anything is written, so a refused message leaves no trace and
//        a written one is complete (the maildrop rename is atomic).
#include <fmt/format.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <csignal>
#include <cstdlib>
#include <ctime>

#include "commands/commands.hpp"
#include "commands/local_user.hpp"
#include "commands/smtp_stdio.hpp"
#include "commands/submit_drop.hpp"
#include "queue/queue_id.hpp"
#include "queue/submission.hpp"
#include "sendmail/args.hpp"
#include "sendmail/headers.hpp"
#include "sendmail/input.hpp"

namespace postrider::commands {
namespace {

static_assert(sendmail::notify_never == queue::notify_never && sendmail::notify_success == queue::notify_success &&
              sendmail::notify_failure == queue::notify_failure && sendmail::notify_delay == queue::notify_delay);

// fail - print one sentence as sendmail and return the exit status.
int fail(int status, const std::string& text)
{
    fmt::print(stderr, "sendmail: {}\n", text);
    return status;
}

struct stdin_result {
    int status = EX_OK;
    std::string data;
    bool eight_bit = false;
};

// read_stdin - the message from fd 0 through the pure reader; stops at the end dot (no -i).
stdin_result read_stdin(const sendmail::options& o, std::uint64_t max_size)
{
    sendmail::input_reader reader(o.dot_ends_input, max_size);
    char buf[65536];
    for (;;) {
        auto n = ::read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return {fail(EX_IOERR, std::string("reading standard input: ") + std::strerror(errno)), {}, false};
        if (n == 0 || !reader.feed(std::string_view(buf, static_cast<std::size_t>(n)))) break;
    }
    reader.finish();
    if (reader.error() != sendmail::input_error::none) {
        const int status = reader.error() == sendmail::input_error::empty ? EX_NOINPUT : EX_DATAERR;
        return {fail(status, sendmail::describe(reader.error(), reader.error_line())), {}, false};
    }
    return {EX_OK, reader.take(), reader.eight_bit()};
}

// envelope_sender - -f/-r (validated; '' or <> is the null sender), else login@origin.
std::optional<std::string> envelope_sender(const sendmail::options& o, const local_user& u, const std::string& domain,
                                           bool& utf8)
{
    if (!o.sender) return u.login + "@" + domain;
    if (o.sender->empty()) return std::string{};
    return qualify(*o.sender, domain, utf8);
}

// add_recipients - qualify and validate each address; the first bad one is returned in bad.
bool add_recipients(const std::vector<std::string>& in, const std::string& domain, pickup::dropped_message& m,
                    std::uint8_t notify, std::string& bad)
{
    for (const auto& raw : in) {
        auto a = qualify(raw, domain, m.smtputf8);
        if (!a) {
            bad = raw;
            return false;
        }
        m.recipients.push_back({*a, notify});
    }
    return true;
}

// deliver - the default mode: read the message, complete it, drop it.
int deliver(const config::settings& s, const sendmail::options& o)
{
    auto user = current_user();
    if (!user) return fail(EX_NOUSER, "no passwd entry for user id " + std::to_string(::getuid()));
    const std::string domain = origin_domain(s);
    pickup::dropped_message m;
    auto sender = envelope_sender(o, *user, domain, m.smtputf8);
    if (!sender) return fail(EX_USAGE, "invalid sender address '" + *o.sender + "' (-f)");
    m.sender = *sender;
    std::string bad;
    if (!add_recipients(o.recipients, domain, m, o.notify, bad))
        return fail(EX_USAGE, "invalid recipient address '" + bad + "'");
    if (o.recipients.empty() && !o.recipients_from_headers)
        return fail(EX_USAGE, "no recipients given (name them, or use -t to read To/Cc/Bcc)");

    auto in = read_stdin(o, s.message_size_limit);
    if (in.status != EX_OK) return in.status;
    auto split = sendmail::split_headers(in.data);
    if (o.recipients_from_headers && !add_recipients(sendmail::header_recipients(split), domain, m, o.notify, bad))
        return fail(EX_DATAERR, "invalid recipient address '" + bad + "' in the message header");
    if (m.recipients.empty()) return fail(EX_USAGE, "no recipient addresses found in the message header (-t)");

    sendmail::completion c{user->login, o.full_name.value_or(user->full_name), domain, {}, std::time(nullptr)};
    // The Message-ID needs a unique token before the drop name exists: a fresh queue id is one.
    c.unique = queue::queue_id_generator().next();
    m.content = sendmail::complete(split, c);
    m.body_8bit = o.body_8bit || in.eight_bit;
    m.ret_full = o.ret_full;
    m.verp = o.verp;
    if (o.verp) m.verp_delimiters = o.verp_delimiters.empty() ? s.verp_delimiters : o.verp_delimiters;
    m.protocol = "local";
    if (s.message_size_limit && m.content.size() > s.message_size_limit)
        return fail(EX_DATAERR, sendmail::describe(sendmail::input_error::too_large, 0));
    auto dropped = drop_message(s, m);
    if (dropped.status != EX_OK) {
        if (!dropped.error.empty()) fail(dropped.status, dropped.error);
        return dropped.status;
    }
    return EX_OK;
}

// load_config - -C FILE, else $POSTRIDER_CONFIG, else defaults and the environment.
std::optional<config::settings> load_config(const sendmail::options& o, const config_loader& load)
{
    std::string file = o.config_file;
    if (file.empty())
        if (const char* env = std::getenv("POSTRIDER_CONFIG")) file = env;
    std::vector<std::string> errors;
    auto s = load(file, errors);
    for (const auto& e : errors) fmt::print(stderr, "sendmail: {}{}\n", file.empty() ? "" : file + ": ", e);
    return s;
}

}  // namespace

int sendmail_main(const std::vector<std::string>& args, const std::string& invoked_as, const config_loader& load)
{
    std::signal(SIGPIPE, SIG_IGN);
    auto parsed = sendmail::parse_args(args, invoked_as);
    if (!parsed.opts) {
        fmt::print(stderr, "{}: {}\n{}", invoked_as, parsed.error, sendmail::usage_text());
        return EX_USAGE;
    }
    const auto& o = *parsed.opts;
    auto s = load_config(o, load);
    if (!s) return EX_CONFIG;
    switch (o.run) {
    case sendmail::mode::print_queue: return queue_list(*s, false);
    case sendmail::mode::flush_queue: return queue_flush(*s);
    case sendmail::mode::rebuild_aliases:
        fmt::print("newaliases: postrider has no aliases database yet (mailboxes come from mailbox_table); nothing to do\n");
        return EX_OK;
    case sendmail::mode::smtp_stdio: return smtp_stdio(*s);
    case sendmail::mode::deliver: break;
    }
    return deliver(*s, o);
}

}  // namespace postrider::commands
