// commands/queue_requeue.cpp: `postrider queue requeue ID...|--all` (Postfix postsuper -r).
//
// Trust: ids are checked with is_valid_queue_id before they name a file;
//        envelopes are decoded with queue::decode_env_file.
// Rule 5 (docs/security.md): when the daemon answers on the control socket it
//        does the requeue (journal, then its schedule); only when nothing
//        listens are records appended here, with O_APPEND + fsync exactly as the
//        daemon appends them, and the daemon's next start replays them.
// XXX: a daemon that starts between our socket check and the append may have
//      read the envelope before our record: the requeue then takes effect at
//      its following start (the record itself is intact either way).
#include <fcntl.h>
#include <fmt/format.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "commands/commands.hpp"
#include "commands/journal_view.hpp"
#include "control/client.hpp"
#include "core/escape.hpp"
#include "queue/queue_id.hpp"
#include "queue/record.hpp"
#include "queue/requeue.hpp"

namespace postrider::commands {
namespace fs = std::filesystem;
namespace {

// append_durably - the records at the end of env/ID, then fsync; "" or why not.
std::string append_durably(const fs::path& env, const std::string& bytes)
{
    int fd = ::open(env.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return std::strerror(errno);
    std::string why;
    auto n = ::write(fd, bytes.data(), bytes.size());
    if (n != static_cast<ssize_t>(bytes.size())) why = n < 0 ? std::strerror(errno) : "short write";
    else if (::fsync(fd) != 0) why = std::strerror(errno);
    ::close(fd);
    return why;
}

// requeue_offline - the daemon is down: journal the requeue records of one message.
bool requeue_offline(const config::settings& s, const std::string& id, std::size_t& count, std::string& why)
{
    const auto env = fs::path(s.queue_dir) / "env" / id;
    std::ifstream in(env, std::ios::binary);
    if (!in) {
        why = journal_hint(s.queue_dir, id);
        if (why.empty()) why = "not in the queue";
        return false;
    }
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    auto d = queue::decode_env_file(bytes);
    if (!d.file) return why = "unreadable envelope", false;
    const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    const auto outcomes = queue::requeue_outcomes(*d.file, now_us);
    count = 0;
    if (outcomes.empty()) return true;  // nothing deferred: untried recipients are due at start anyway
    // Appending behind a torn record would make it a damaged middle record (the file turns invalid).
    if (d.file->torn_tail) return why = "the journal ends in a torn record; start the daemon once first", false;
    std::string records;
    for (const auto& o : outcomes) records += queue::encode_outcome(o);
    why = append_durably(env, records);
    if (!why.empty()) return false;
    count = outcomes.size();
    return true;
}

// all_ids - every valid name in env/.
std::vector<std::string> all_ids(const config::settings& s)
{
    std::vector<std::string> ids;
    std::error_code ec;
    for (fs::directory_iterator it(fs::path(s.queue_dir) / "env", ec), end; !ec && it != end; it.increment(ec))
        if (auto n = it->path().filename().string(); queue::is_valid_queue_id(n)) ids.push_back(n);
    return ids;
}

}  // namespace

int queue_requeue(const config::settings& s, const std::vector<std::string>& args)
{
    bool all = false;
    std::vector<std::string> ids;
    for (const auto& a : args) {
        if (a == "--all") all = true;
        else if (queue::is_valid_queue_id(a)) ids.push_back(a);
        else return fmt::print(stderr, "postrider: queue requeue: bad argument '{}'\n", core::escape(a)), EX_USAGE;
    }
    if (all == !ids.empty())
        return fmt::print(stderr, "usage: postrider queue requeue ID... | --all\n"), EX_USAGE;
    if (all) {
        auto r = control::call(s.queue_dir, {control::verb::requeue, {}});
        if (r.daemon_running) {
            if (!r.ok) return fmt::print(stderr, "postrider: requeue failed: {}\n", core::escape(r.text)), EX_TEMPFAIL;
            return fmt::print("postrider: requeue: {}\n", core::escape(r.text)), EX_OK;
        }
        ids = all_ids(s);
    }
    std::size_t failed = 0;
    for (const auto& id : ids) {
        std::size_t n = 0;
        std::string why;
        bool ok = false, running = false;
        if (!all) {
            auto r = control::call(s.queue_dir, {control::verb::requeue, id});
            running = r.daemon_running;
            ok = r.ok;
            why = r.text;
        }
        if (!running) ok = requeue_offline(s, id, n, why);
        if (!ok) {
            ++failed;
            fmt::print(stderr, "postrider: {}: not requeued: {}\n", id, core::escape(why));
        } else if (running) {
            fmt::print("{}: {}\n", id, core::escape(why));
        } else {
            fmt::print("{}: {} recipients requeued (daemon not running: journalled, due at its start)\n", id, n);
        }
    }
    if (failed) return EX_TEMPFAIL;
    return EX_OK;
}

}  // namespace postrider::commands
