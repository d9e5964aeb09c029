// queue/store.hpp: the queue directory on disk (maildir-style, one writer).
//
// Owns: the layout (tmp/, mess/, env/, corrupt/), the commit, journal append,
//       removal and recovery steps. Synchronous: called only on a disk_worker
//       thread or at start-up, never on the event loop.
// Trust: at recovery every file is UNTRUSTED: names must be valid queue ids,
//        env/ID must decode (record.hpp) and mess/ID must match the length and
//        CRC the envelope recorded; anything else is moved to corrupt/ and logged.
// Journal: with use_journal(), commits append to journal/ segments (journal.hpp) instead
//        of writing tmp/ + mess/ + env/ files; a message that is deferred is migrated to
//        classic files (append(), then settle() after the flush). recover() replays the
//        journal into classic files first, whether or not the journal is in use now.
// Flushing: in flush_mode::group the steps do no fsync; the disk_worker runs one
//        syncfs() per round after them (docs/queue-format.md "Group commit").
//        In flush_mode::per_file every step fsyncs its file and directories.
// See also: record.hpp (env/ID bytes), disk_worker.hpp, docs/queue-format.md.
#pragma once

#include "core/limits.hpp"
#include "local/fs_ops.hpp"
#include "queue/journal.hpp"
#include "queue/record.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace postrider::queue {

enum class flush_mode {
    group,     // write + rename, then one syncfs() per round shared by every job in it
    per_file,  // fsync each file and directory (the classic baseline; benchmarks)
};

struct recovered_message {
    envelope env;
    std::vector<outcome> journal;
};

struct recovery_report {
    std::vector<recovered_message> messages;  // valid, in id (= arrival) order
    std::size_t tmp_removed = 0;              // leftovers of unacknowledged commits
    std::size_t orphans_removed = 0;          // mess/ID without env/ID
    std::size_t quarantined = 0;              // moved to corrupt/
    std::size_t journal_materialised = 0;     // live journal messages written as classic files
    std::size_t journal_segments = 0;         // segments replayed (then unlinked)
};

// Largest message file read back (limits::default_message_size plus headroom).
inline constexpr std::size_t max_message_file = 64u * 1024 * 1024;
// Room for the trace header and the line-end normalisation above the largest accepted message.
static_assert(limits::max_message_size + 1024 * 1024 <= max_message_file);

class store {
public:
    // store - the queue under dir; fs is the syscall seam (outlives the store).
    store(local::fs_ops& fs, std::filesystem::path dir, flush_mode mode);

    // create_dirs - dir and its subdirs, mode 0700; throws std::runtime_error when unusable.
    void create_dirs();
    // close_journal - clean stop (no disk job running any more): write the journal's live
    //                messages as classic files and unlink the segments, so the queue tools
    //                (which read env/ and mess/ with the daemon stopped) see every message.
    //                Never throws: on failure the segments stay for the next start.
    void close_journal() noexcept;
    // use_journal - commit new messages to the write-ahead journal (before recover()).
    void use_journal(journal_options o) { journal_opts_ = o; }
    // recover - start-up: replay journal/ into classic files (one flush, segments unlinked),
    //           then clean tmp/, validate env/ + mess/, quarantine, drop orphans.
    recovery_report recover();

    // commit - write tmp/ID.{mess,env}, rename to mess/ID then env/ID (env/ID last:
    //          its rename is the commit point). Sets env.message_size/crc. On error
    //          nothing is left under mess/ or env/.
    //          The message file is head then body, written as two parts (no concatenation).
    //          file_too_large past max_message_file (what recovery reads back).
    std::error_code commit(const std::string& id, std::string_view head, std::string_view body, envelope& env);
    std::error_code commit(const std::string& id, std::string_view content, envelope& env)
    {
        return commit(id, {}, content, env);
    }
    // undo_commit - remove a committed-but-unflushed message (its flush failed).
    void undo_commit(const std::string& id);
    // append - record one outcome: in env/ID, or in the journal; a deferral of a journal
    //          message migrates it (classic files with its history, not yet flushed).
    std::error_code append(const std::string& id, const outcome& o);
    // settle - after the flush that followed append(): a migrated message leaves the journal.
    std::error_code settle(const std::string& id);
    // undo_append - the flush after append() failed: remove a migration's classic files.
    void undo_append(const std::string& id);
    // read_message - the bytes of mess/ID.
    std::error_code read_message(const std::string& id, std::string& out);
    // remove - unlink env/ID, then mess/ID (an orphan mess/ is cleaned at recovery);
    //          a journal message gets its done record instead.
    std::error_code remove(const std::string& id);
    // journal_segments - open journal segments (tests); 0 without the journal.
    std::size_t journal_segments() const { return journal_ ? journal_->segment_count() : 0; }
    // in_journal - id's message is held by the journal (tests).
    bool in_journal(const std::string& id) const { return journal_ && journal_->holds(id); }

    const std::filesystem::path& dir() const { return dir_; }
    flush_mode mode() const { return mode_; }

private:
    // quarantine - move env/NAME (and mess/NAME) to corrupt/, log why.
    void quarantine(const std::string& name, const std::string& why);
    // load_one - validate env/ID and mess/ID; false with why when invalid.
    bool load_one(const std::string& id, recovered_message& out, std::string& why);
    // write_classic - tmp/ files renamed to mess/ID then env/ID (env last); env/ID holds the
    //                 envelope then history. Sets env.message_size/crc.
    std::error_code write_classic(const std::string& id, std::string_view head, std::string_view body,
                                  envelope& env, const std::vector<outcome>& history);
    // materialise_journal - write the live messages of journal/ as classic files, one flush,
    //                       unlink the segments; returns the highest segment number seen.
    std::uint64_t materialise_journal(recovery_report& r);

    local::fs_ops& fs_;
    std::filesystem::path dir_;
    flush_mode mode_;
    std::optional<journal_options> journal_opts_;
    std::unique_ptr<journal> journal_;
    std::mutex migrate_mutex_;  // a migration and the outcome appends of journal messages
};

}  // namespace postrider::queue
