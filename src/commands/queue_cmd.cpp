// commands/queue_cmd.cpp: `postrider queue ...` and mailq: read the queue
//                         directly; change it through the daemon when it runs.
//
// Trust: queue files are decoded with queue::decode_env_file (untrusted-safe);
//        only names that pass is_valid_queue_id are opened. Changes (delete;
//        requeue in queue_requeue.cpp) are made BY the daemon when its control socket answers, so it never
//        sees a half-changed queue; only when no daemon listens are files
//        removed here, in the daemon's own order (env/ID, then mess/ID).
// XXX: a daemon that starts between our socket check and the unlink would
//      recover a message we are removing as an orphan or not at all; both
//      are safe outcomes (the message is deleted either way).
#include <fmt/format.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "commands/commands.hpp"
#include "commands/queue_view.hpp"
#include "control/client.hpp"
#include "core/escape.hpp"
#include "commands/journal_view.hpp"
#include "queue/queue_id.hpp"
#include "queue/record.hpp"

namespace postrider::commands {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view queue_usage =
    "usage: postrider queue list [--json]      (= mailq)\n"
    "       postrider queue show ID\n"
    "       postrider queue stats\n"
    "       postrider queue flush\n"
    "       postrider queue delete ID... | --sender ADDR | --recipient-domain DOMAIN | --all\n"
    "       postrider queue requeue ID... | --all\n"
    "options: -c FILE (configuration)\n";

// read_file - whole file up to max bytes; false on error.
bool read_file(const fs::path& p, std::string& out, std::size_t max)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), {});
    return out.size() <= max;
}

struct loaded {
    std::vector<message_view> messages;
    std::size_t unreadable = 0;
};

// load_queue - every decodable env/ID, in id (arrival) order; complaints on stderr.
loaded load_queue(const config::settings& s)
{
    loaded out;
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(fs::path(s.queue_dir) / "env", ec), end; !ec && it != end; it.increment(ec)) {
        auto name = it->path().filename().string();
        if (queue::is_valid_queue_id(name)) names.push_back(name);
    }
    if (ec && ec != std::errc::no_such_file_or_directory)
        fmt::print(stderr, "postrider: cannot read {}/env: {}\n", s.queue_dir, ec.message());
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        std::string bytes;
        if (!read_file(fs::path(s.queue_dir) / "env" / n, bytes, queue::max_record_octets * 2)) continue;  // removed meanwhile
        auto d = queue::decode_env_file(bytes);
        if (!d.file) {
            ++out.unreadable;
            fmt::print(stderr, "postrider: {}: unreadable envelope: {}\n", n, core::escape(d.error ? d.error->what : ""));
            continue;
        }
        out.messages.push_back(view_of(*d.file));
    }
    // Messages the daemon took in and has not finished, or a crash left in the journal, are
    // held in journal/ segments, not in env/: read those too (a migrated one is in both).
    const auto held = journal_messages(s.queue_dir);
    for (const auto& [id, m] : held.live)
        if (!std::binary_search(names.begin(), names.end(), id))
            out.messages.push_back(view_of(queue::env_file{m.env, m.outcomes}));
    std::sort(out.messages.begin(), out.messages.end(),
              [](const message_view& a, const message_view& b) { return a.id < b.id; });
    return out;
}

// from_journal - id's envelope, outcomes and content from the journal; false when not held there.
bool from_journal(const config::settings& s, const std::string& id, queue::env_file& f, std::string& content)
{
    auto held = journal_messages(s.queue_dir);
    auto it = held.live.find(id);
    if (it == held.live.end()) return false;
    f = queue::env_file{std::move(it->second.env), std::move(it->second.outcomes)};
    content = std::move(it->second.content);
    return true;
}

// local_time - arrival in mailq's "Tue Jan  7 09:05:03" layout, local time.
std::string local_time(std::int64_t us)
{
    std::time_t t = static_cast<std::time_t>(us / 1000000);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S", &tm);
    return buf;
}

int cmd_show(const config::settings& s, const std::string& id)
{
    if (!queue::is_valid_queue_id(id)) return fmt::print(stderr, "postrider: '{}' is not a queue id\n", core::escape(id)), EX_USAGE;
    std::string bytes, mess;
    queue::decode_result d;
    bool held = false;
    if (read_file(fs::path(s.queue_dir) / "env" / id, bytes, queue::max_record_octets * 2)) {
        d = queue::decode_env_file(bytes);
        if (!d.file) return fmt::print(stderr, "postrider: {}: unreadable envelope\n", id), EX_DATAERR;
        held = read_file(fs::path(s.queue_dir) / "mess" / id, mess, 64u * 1024 * 1024);
    } else if (queue::env_file f; from_journal(s, id, f, mess)) {
        d.file = std::move(f);
        held = true;
    } else {
        return fmt::print(stderr, "postrider: {}: not in the queue\n", id), EX_NOINPUT;
    }
    const auto& e = d.file->env;
    fmt::print("queue_id: {}\narrival: {}\nsize: {}\nsender: <{}>\nclient: {}\nhelo: {}\nprotocol: {}\n", e.queue_id,
               local_time(e.arrival_us), e.message_size, core::escape(e.sender), core::escape(e.client),
               core::escape(e.helo), core::escape(e.protocol));
    if (!e.verp_delimiters.empty()) fmt::print("verp: {}\n", core::escape(e.verp_delimiters));
    auto v = view_of(*d.file);
    for (const auto& r : v.rcpts)
        fmt::print("recipient: <{}> {} attempts={} {} {}\n", core::escape(r.address), state_name(r.state), r.attempts,
                   core::escape(r.status), core::escape(r.reason, 200));
    for (const auto& o : d.file->journal)
        fmt::print("journal: rcpt={} kind={} at={} attempts={} status={} reason=\"{}\"\n", o.recipient,
                   static_cast<int>(o.kind), local_time(o.at_us), o.attempts, core::escape(o.status),
                   core::escape(o.reason, 200));
    if (held) {
        // The header section as it came from the network or a local user: capped, and each line
        // escaped, so a planted control sequence cannot drive the admin's terminal.
        std::string_view head(mess);
        head = head.substr(0, std::min<std::size_t>({head.find("\r\n\r\n"), head.size(), 65536}));
        fmt::print("--- headers ---\n");
        while (!head.empty()) {
            const auto nl = head.find("\r\n");
            fmt::print("{}\n", core::escape(head.substr(0, nl), 4096));
            head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 2);
        }
    }
    return EX_OK;
}

int cmd_stats(const config::settings& s)
{
    auto q = load_queue(s);
    queue_stats st;
    for (const auto& m : q.messages) add_to_stats(st, m);
    fmt::print("{}", stats_text(st));
    if (st.messages) fmt::print("oldest: {}\n", local_time(st.oldest_arrival_us));
    fmt::print("unreadable: {}\n", q.unreadable);
    return EX_OK;
}

// remove_offline - the daemon is down: unlink env/ID (the commit point) then mess/ID.
bool remove_offline(const config::settings& s, const std::string& id, std::string& why)
{
    const auto env = fs::path(s.queue_dir) / "env" / id;
    if (::unlink(env.c_str()) != 0) {
        const int err = errno;  // journal_hint's reads may change errno
        why = err == ENOENT ? journal_hint(s.queue_dir, id) : "";
        if (why.empty()) why = std::strerror(err);
        return false;
    }
    ::unlink((fs::path(s.queue_dir) / "mess" / id).c_str());  // an orphan would be removed at start anyway
    return true;
}

// delete_one - through the daemon when it listens, else on disk.
bool delete_one(const config::settings& s, const std::string& id)
{
    auto r = control::call(s.queue_dir, {control::verb::remove, id});
    std::string why = r.text;
    bool ok = r.ok;
    if (!r.daemon_running) ok = remove_offline(s, id, why);
    if (ok) fmt::print("{}: deleted{}\n", id, r.daemon_running ? "" : " (daemon not running: removed on disk)");
    else fmt::print(stderr, "postrider: {}: not deleted: {}\n", id, core::escape(why));
    return ok;
}

int cmd_delete(const config::settings& s, const std::vector<std::string>& a)
{
    std::vector<std::string> ids;
    std::string sender, domain;
    bool all = false, filtered = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if ((a[i] == "--sender" || a[i] == "--recipient-domain") && i + 1 < a.size()) {
            (a[i] == "--sender" ? sender : domain) = a[i + 1];
            filtered = true;
            ++i;
        } else if (a[i] == "--all") {
            all = filtered = true;
        } else if (queue::is_valid_queue_id(a[i])) {
            ids.push_back(a[i]);
        } else {
            fmt::print(stderr, "postrider: queue delete: bad argument '{}'\n{}", core::escape(a[i]), queue_usage);
            return EX_USAGE;
        }
    }
    if (filtered)
        for (const auto& m : load_queue(s).messages)
            if (all || matches_filter(m, sender, domain)) ids.push_back(m.id);
    if (ids.empty() && !filtered) {
        fmt::print(stderr, "{}", queue_usage);
        return EX_USAGE;
    }
    std::size_t failed = 0;
    for (const auto& id : ids) failed += delete_one(s, id) ? 0 : 1;
    fmt::print("postrider: {} deleted, {} not deleted\n", ids.size() - failed, failed);
    return failed ? EX_TEMPFAIL : EX_OK;
}

}  // namespace

int queue_list(const config::settings& s, bool json)
{
    auto q = load_queue(s);
    std::uint64_t bytes = 0;
    if (!json && !q.messages.empty()) fmt::print("{}", list_header());
    for (const auto& m : q.messages) {
        bytes += m.size;
        fmt::print("{}", json ? json_entry(m) : list_entry(m, local_time(m.arrival_us)));
    }
    if (!json) fmt::print("{}", list_footer(q.messages.size(), bytes));
    return EX_OK;
}

int queue_flush(const config::settings& s)
{
    auto r = control::call(s.queue_dir, {control::verb::flush, {}});
    if (!r.daemon_running) {
        fmt::print(stderr, "postrider: the daemon is not running; queued mail is tried when it starts ({})\n",
                   core::escape(r.text));
        return EX_UNAVAILABLE;
    }
    if (!r.ok) return fmt::print(stderr, "postrider: flush failed: {}\n", core::escape(r.text)), EX_TEMPFAIL;
    fmt::print("postrider: flush requested: {}\n", core::escape(r.text));
    return EX_OK;
}

int queue_main(const std::vector<std::string>& args_in, const config_loader& load)
{
    std::vector<std::string> args;
    std::string config_file;
    for (std::size_t i = 0; i < args_in.size(); ++i) {
        if ((args_in[i] == "-c" || args_in[i] == "--config") && i + 1 < args_in.size()) config_file = args_in[++i];
        else args.push_back(args_in[i]);
    }
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        fmt::print(args.empty() ? stderr : stdout, "{}", queue_usage);
        return args.empty() ? EX_USAGE : EX_OK;
    }
    std::vector<std::string> errors;
    auto s = load(config_file, errors);
    for (const auto& e : errors) fmt::print(stderr, "postrider: {}\n", e);
    if (!s) return EX_CONFIG;
    const std::string sub = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (sub == "list" && rest.size() <= 1 && (rest.empty() || rest[0] == "--json"))
        return queue_list(*s, !rest.empty());
    if (sub == "show" && rest.size() == 1) return cmd_show(*s, rest[0]);
    if (sub == "stats" && rest.empty()) return cmd_stats(*s);
    if (sub == "flush" && rest.empty()) return queue_flush(*s);
    if (sub == "delete") return cmd_delete(*s, rest);
    if (sub == "requeue") return queue_requeue(*s, rest);
    fmt::print(stderr, "postrider: queue: bad command\n{}", queue_usage);
    return EX_USAGE;
}

}  // namespace postrider::commands
