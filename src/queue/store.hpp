// queue/store.hpp: the queue directory on disk (maildir-style, one writer).
//
// Owns: the layout (tmp/, mess/, env/, corrupt/), the commit, journal append,
//       removal and recovery steps. Synchronous: called only on a disk_worker
//       thread or at start-up, never on the event loop.
// Trust: at recovery every file is UNTRUSTED: names must be valid queue ids,
//        env/ID must decode (record.hpp) and mess/ID must match the length and
//        CRC the envelope recorded; anything else is moved to corrupt/ and logged.
// Flushing: in flush_mode::group the steps do no fsync; the disk_worker runs one
//        syncfs() per round after them (docs/queue-format.md "Group commit").
//        In flush_mode::per_file every step fsyncs its file and directories.
// See also: record.hpp (env/ID bytes), disk_worker.hpp, docs/queue-format.md.
#pragma once

#include "local/fs_ops.hpp"
#include "queue/record.hpp"

#include <filesystem>
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
};

// Largest message file read back (limits::default_message_size plus headroom).
inline constexpr std::size_t max_message_file = 64u * 1024 * 1024;

class store {
public:
    // store - the queue under dir; fs is the syscall seam (outlives the store).
    store(local::fs_ops& fs, std::filesystem::path dir, flush_mode mode);

    // create_dirs - dir and its subdirs, mode 0700; throws std::runtime_error when unusable.
    void create_dirs();
    // recover - start-up scan: clean tmp/, validate env/ + mess/, quarantine, drop orphans.
    recovery_report recover();

    // commit - write tmp/ID.{mess,env}, rename to mess/ID then env/ID (env/ID last:
    //          its rename is the commit point). Sets env.message_size/crc. On error
    //          nothing is left under mess/ or env/.
    //          The message file is head then body, written as two parts (no concatenation).
    std::error_code commit(const std::string& id, std::string_view head, std::string_view body, envelope& env);
    std::error_code commit(const std::string& id, std::string_view content, envelope& env)
    {
        return commit(id, {}, content, env);
    }
    // undo_commit - remove a committed-but-unflushed message (its flush failed).
    void undo_commit(const std::string& id);
    // append - add one journal record to env/ID.
    std::error_code append(const std::string& id, const outcome& o);
    // read_message - the bytes of mess/ID.
    std::error_code read_message(const std::string& id, std::string& out);
    // remove - unlink env/ID, then mess/ID (an orphan mess/ is cleaned at recovery).
    std::error_code remove(const std::string& id);

    const std::filesystem::path& dir() const { return dir_; }
    flush_mode mode() const { return mode_; }

private:
    // quarantine - move env/NAME (and mess/NAME) to corrupt/, log why.
    void quarantine(const std::string& name, const std::string& why);
    // load_one - validate env/ID and mess/ID; false with why when invalid.
    bool load_one(const std::string& id, recovered_message& out, std::string& why);

    local::fs_ops& fs_;
    std::filesystem::path dir_;
    flush_mode mode_;
};

}  // namespace postrider::queue
