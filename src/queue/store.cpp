// queue/store.cpp: queue directory steps (see store.hpp and docs/queue-format.md).
#include "queue/store.hpp"

#include "core/escape.hpp"
#include "log/log.hpp"
#include "queue/queue_id.hpp"
#include "queue/segment.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace postrider::queue {

namespace fs = std::filesystem;

// A journal record of a message at the limit, with the largest envelope, still replays.
static_assert(max_segment_record >= max_message_file + max_record_octets);

store::store(local::fs_ops& fsys, fs::path dir, flush_mode mode)
    : fs_(fsys), dir_(std::move(dir)), mode_(mode)
{
}

void store::create_dirs()
{
    for (const char* sub : {"", "tmp", "mess", "env", "corrupt", "journal"}) {
        fs::path p = dir_ / sub;
        if (auto ec = local::make_dirs(fs_, p, 0700))
            throw std::runtime_error("queue directory " + p.string() + ": " + ec.message());
        if (::access(p.c_str(), R_OK | W_OK | X_OK) != 0)
            throw std::runtime_error("queue directory " + p.string() + ": " + local::last_error().message());
    }
}

std::error_code store::commit(const std::string& id, std::string_view head, std::string_view body, envelope& env)
{
    // Recovery and delivery read a queue file back only up to max_message_file (a journal
    // record up to max_segment_record, which is sized from it): a larger message is refused
    // here instead of acknowledged and then never delivered, or dropped by replay after a crash.
    if (head.size() + body.size() > max_message_file) return std::make_error_code(std::errc::file_too_large);
    if (journal_) {
        env.message_size = head.size() + body.size();
        env.message_crc = crc32(body, crc32(head));
        return journal_->append_message(env, head, body);
    }
    return write_classic(id, head, body, env, {});
}

std::error_code store::write_classic(const std::string& id, std::string_view head, std::string_view body,
                                     envelope& env, const std::vector<outcome>& history)
{
    const bool sync = mode_ == flush_mode::per_file;
    env.message_size = head.size() + body.size();
    env.message_crc = crc32(body, crc32(head));
    fs::path tmp_mess = dir_ / "tmp" / (id + ".mess"), tmp_env = dir_ / "tmp" / (id + ".env");
    fs::path mess = dir_ / "mess" / id, envf = dir_ / "env" / id;
    if (auto ec = local::write_new_file(fs_, tmp_mess.c_str(), head, body, sync)) return ec;
    std::string env_bytes = encode_envelope(env);
    for (const auto& o : history) env_bytes += encode_outcome(o);
    if (auto ec = local::write_new_file(fs_, tmp_env.c_str(), env_bytes, {}, sync)) {
        fs_.unlink(tmp_mess.c_str());
        return ec;
    }
    std::error_code ec;
    if (fs_.rename(tmp_mess.c_str(), mess.c_str()) != 0) {
        ec = local::last_error();
        fs_.unlink(tmp_mess.c_str());
        fs_.unlink(tmp_env.c_str());
        return ec;
    }
    if (sync) ec = local::fsync_dir(fs_, dir_ / "mess");
    if (!ec && fs_.rename(tmp_env.c_str(), envf.c_str()) != 0) ec = local::last_error();
    if (!ec && sync) {
        ec = local::fsync_dir(fs_, dir_ / "env");
        if (ec) fs_.unlink(envf.c_str());
    }
    if (ec) {
        fs_.unlink(tmp_env.c_str());
        fs_.unlink(mess.c_str());
    }
    return ec;
}

void store::undo_commit(const std::string& id)
{
    if (journal_ && journal_->holds(id)) {
        journal_->done(id);
        return;
    }
    fs_.unlink((dir_ / "env" / id).c_str());
    fs_.unlink((dir_ / "mess" / id).c_str());
}

std::error_code store::append(const std::string& id, const outcome& o)
{
    if (journal_) {
        std::lock_guard lock(migrate_mutex_);
        if (journal_->holds(id) && !journal_->migrating(id)) {
            if (o.kind != outcome_kind::deferred) return journal_->append_outcome(id, o);
            // A deferred message waits minutes at least (retry_first): it would pin its
            // segment long after the fast ones are done, so it moves to classic files now.
            envelope env;
            std::vector<outcome> history;
            std::string content;
            if (auto ec = journal_->load(id, env, history, content)) return ec;
            history.push_back(o);
            if (auto ec = write_classic(id, {}, content, env, history)) return ec;
            journal_->set_migrating(id, true);
            return {};
        }
    }
    return local::append_file(fs_, dir_ / "env" / id, encode_outcome(o), mode_ == flush_mode::per_file);
}

std::error_code store::settle(const std::string& id)
{
    if (journal_ && journal_->migrating(id)) {
        journal_->done(id);  // its classic files are durable now: the segment is no longer needed
        log::info("{}: moved from the journal to the queue files", id);
    }
    return {};
}

void store::undo_append(const std::string& id)
{
    if (!journal_) return;
    std::lock_guard lock(migrate_mutex_);
    if (!journal_->migrating(id)) return;
    journal_->set_migrating(id, false);
    fs_.unlink((dir_ / "env" / id).c_str());
    fs_.unlink((dir_ / "mess" / id).c_str());
}

std::error_code store::read_message(const std::string& id, std::string& out)
{
    if (journal_)
        if (auto ec = journal_->read_message(id, out)) return *ec;
    return local::read_file(fs_, dir_ / "mess" / id, out, max_message_file);
}

std::error_code store::remove(const std::string& id)
{
    if (journal_ && journal_->holds(id) && !journal_->done(id)) return {};
    std::error_code ec;
    if (fs_.unlink((dir_ / "env" / id).c_str()) != 0 && errno != ENOENT) ec = local::last_error();
    if (!ec && fs_.unlink((dir_ / "mess" / id).c_str()) != 0 && errno != ENOENT) ec = local::last_error();
    return ec;
}

void store::quarantine(const std::string& name, const std::string& why)
{
    log::warn("{}: quarantined to corrupt/ reason=\"{}\"", core::escape(name), core::escape(why));
    for (const char* sub : {"env", "mess"}) {
        fs::path from = dir_ / sub / name, to = dir_ / "corrupt" / (name + "." + sub);
        fs_.rename(from.c_str(), to.c_str());  // ENOENT for a missing half is fine
    }
}

bool store::load_one(const std::string& id, recovered_message& out, std::string& why)
{
    std::string bytes;
    if (auto ec = local::read_file(fs_, dir_ / "env" / id, bytes, max_record_octets * 4)) {
        why = "cannot read envelope: " + ec.message();
        return false;
    }
    auto d = decode_env_file(bytes);
    if (!d.file) {
        why = "bad envelope at offset " + std::to_string(d.error->offset) + ": " + d.error->what;
        return false;
    }
    if (d.file->env.queue_id != id) {
        why = "envelope names another queue id";
        return false;
    }
    std::string content;
    if (auto ec = read_message(id, content)) {
        why = "cannot read message: " + ec.message();
        return false;
    }
    if (content.size() != d.file->env.message_size || crc32(content) != d.file->env.message_crc) {
        why = "message length or CRC does not match its envelope (torn, unacknowledged commit?)";
        return false;
    }
    out.env = std::move(d.file->env);
    out.journal = std::move(d.file->journal);
    return true;
}

std::uint64_t store::materialise_journal(recovery_report& r)
{
    const fs::path jdir = dir_ / "journal";
    journal_replay jr = journal::replay(fs_, jdir, dir_ / "corrupt");
    r.journal_segments = jr.segments.size() + jr.quarantined;
    for (auto& [id, m] : jr.live) {
        recovered_message classic;
        std::string why;
        // A migration whose files were complete (and flushed) has the newer history: keep it.
        if (::access((dir_ / "env" / id).c_str(), F_OK) == 0 && load_one(id, classic, why)) continue;
        if (auto ec = write_classic(id, {}, m.content, m.env, m.outcomes)) {
            // Segments stay (and are replayed again next start): nothing is lost.
            throw std::runtime_error("queue journal: cannot materialise " + id + ": " + ec.message());
        }
        ++r.journal_materialised;
    }
    if (!jr.live.empty() && mode_ == flush_mode::group) {
        int fd = fs_.open(dir_.c_str(), O_RDONLY | O_DIRECTORY, 0);
        const bool ok = fd >= 0 && fs_.syncfs(fd) == 0;
        auto ec = local::last_error();
        if (fd >= 0) fs_.close(fd);
        if (!ok) throw std::runtime_error("queue journal: flush after replay failed: " + ec.message());
    }
    for (const auto& p : jr.segments) fs_.unlink(p.c_str());
    if (!jr.segments.empty()) {
        if (auto ec = local::fsync_dir(fs_, jdir))
            log::warn("queue: journal directory fsync failed error=\"{}\"", core::escape(ec.message()));
    }
    if (r.journal_segments)
        log::info("queue: journal replayed segments={} materialised={} quarantined_segments={} torn={}",
                  r.journal_segments, r.journal_materialised, jr.quarantined, jr.torn);
    return jr.last_seq;
}

void store::close_journal() noexcept
{
    if (!journal_) return;
    journal_.reset();
    try {
        recovery_report r;
        materialise_journal(r);
    } catch (const std::exception& e) {
        log::error("queue: journal not written out at stop error=\"{}\" (replayed at next start)",
                   core::escape(e.what()));
    }
}

recovery_report store::recover()
{
    recovery_report r;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ / "tmp", ec)) {
        if (fs_.unlink(e.path().c_str()) == 0) ++r.tmp_removed;
    }
    const std::uint64_t last_seq = materialise_journal(r);
    if (journal_opts_) {
        journal_opts_->sync = mode_ == flush_mode::per_file;
        journal_ = std::make_unique<journal>(fs_, dir_ / "journal", *journal_opts_, last_seq);
    }
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ / "env", ec)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        recovered_message m;
        std::string why;
        if (!is_valid_queue_id(name)) why = "file name is not a queue id";
        else if (load_one(name, m, why)) {
            r.messages.push_back(std::move(m));
            continue;
        }
        quarantine(name, why);
        ++r.quarantined;
    }
    for (const auto& e : fs::directory_iterator(dir_ / "mess", ec)) {
        std::string name = e.path().filename().string();
        if (std::binary_search(names.begin(), names.end(), name)) continue;
        if (fs_.unlink(e.path().c_str()) == 0) ++r.orphans_removed;
    }
    return r;
}

}  // namespace postrider::queue
