// queue/journal.hpp: the write-ahead journal: message, outcome and done records appended
//                    to segment files under queue_dir/journal/ instead of files per message.
//
// Owns: the open segments, the append offset, and an in-memory index id -> where the
//       message's bytes are (so a queued message costs its index entry, never its body).
//       Segments are retired (unlinked) oldest first, once every message in them and in
//       every older segment is done: an outcome is always in its message's segment or a
//       later one, so retiring in order never drops a live message's outcome.
// Trust: writes our own records; replay() reads segments back through the pure codec
//        (segment.hpp), which treats them as untrusted.
// Threads: every method is thread-safe (stager threads commit in parallel). Appends are
//        serialized under one mutex: the file is always a prefix of whole records up to
//        the last completed write, so a flush that releases a record also covers every
//        record before it, and only never-acknowledged records can be torn.
// Flushing: group mode: no flush here, the disk_worker's syncfs covers the segment (and a
//        new segment's directory entry). per_file: each append is fdatasync'ed and a new
//        segment's directory fsync'ed.
// See also: segment.hpp, store.hpp, docs/queue-format.md "Journal".
#pragma once

#include "local/fs_ops.hpp"
#include "queue/record.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace postrider::queue {

struct journal_options {
    std::uint64_t rotate_bytes = 32u * 1024 * 1024;  // start a new segment past this size
    std::chrono::seconds rotate_age{10};             // ... or when the current one is this old
    bool sync = false;                               // per_file: fdatasync every append
};

// A live message found by replay (not done): what recovery materialises as classic files.
struct replayed_message {
    envelope env;
    std::vector<outcome> outcomes;
    std::string content;
};

struct journal_replay {
    std::map<std::string, replayed_message> live;  // by id (= arrival order)
    std::vector<std::filesystem::path> segments;   // every segment read (to unlink once materialised)
    std::uint64_t last_seq = 0;                    // highest segment number seen
    std::size_t quarantined = 0;                   // segments moved to corrupt/ (damage mid-segment)
    std::size_t torn = 0;                          // segments with a torn (never acknowledged) tail
};

class journal {
public:
    // journal - segments under dir (created by store::create_dirs); numbering starts after first_seq.
    journal(local::fs_ops& fs, std::filesystem::path dir, journal_options o, std::uint64_t last_seq);
    ~journal();
    journal(const journal&) = delete;
    journal& operator=(const journal&) = delete;

    // append_message - one message record (env.message_size/crc already set) in the current segment.
    std::error_code append_message(const envelope& env, std::string_view head, std::string_view body);
    // holds - id's message is in a segment (not done, not migrated).
    bool holds(const std::string& id) const;
    // read_message - the message bytes (pread); nullopt when the journal does not hold id.
    std::optional<std::error_code> read_message(const std::string& id, std::string& out);
    // load - envelope, outcomes so far and content: what a migration writes as classic files.
    std::error_code load(const std::string& id, envelope& env, std::vector<outcome>& outcomes, std::string& content);
    // append_outcome - one outcome record for id (held) in the current segment.
    std::error_code append_outcome(const std::string& id, const outcome& o);
    // set_migrating / migrating - classic files of id were written (not yet known durable).
    void set_migrating(const std::string& id, bool on);
    bool migrating(const std::string& id) const;
    // done - id needs the journal no more: a done record (best effort, never flushed),
    //        unpin its segment, retire what can be. Returns whether id was migrating.
    bool done(const std::string& id);
    // segment_count - open segments (tests).
    std::size_t segment_count() const;

    // replay - read every segment under dir in order (start-up, nothing else running).
    //          A segment damaged mid-way is moved to corrupt_dir after its valid records are used.
    static journal_replay replay(local::fs_ops& fs, const std::filesystem::path& dir,
                                 const std::filesystem::path& corrupt_dir);
    // peek - the same reading without changing anything and without logging, for the queue
    //        tools, also while the daemon appends (its newest segment ends in a torn tail at
    //        worst; a segment retired meanwhile is skipped).
    static journal_replay peek(local::fs_ops& fs, const std::filesystem::path& dir);

private:
    // read_segments - replay and peek; corrupt_dir null: read only, silent.
    static journal_replay read_segments(local::fs_ops& fs, const std::filesystem::path& dir,
                                        const std::filesystem::path* corrupt_dir);

    struct segment {
        int fd = -1;
        std::uint64_t size = 0;
        std::size_t live = 0;  // messages held in it
        std::chrono::steady_clock::time_point opened;
    };
    struct entry {
        std::uint64_t seq = 0;
        std::uint64_t env_offset = 0, env_size = 0;
        std::uint64_t content_offset = 0, content_size = 0;
        std::vector<outcome> outcomes;
        bool migrating = false;
    };
    // reserve - the segment to append n octets to, rotating as needed (mutex_ held).
    std::error_code reserve(std::uint64_t n, std::uint64_t& seq);
    // write_record - append whole bytes to the current segment (mutex_ held).
    std::error_code write_at_end(const struct iovec* iov, int count, std::uint64_t n, std::uint64_t& seq,
                                 std::uint64_t& offset);
    // retire - unlink done segments, oldest first (mutex_ held).
    void retire();
    std::filesystem::path path_of(std::uint64_t seq) const;
    // pread_all - n octets at offset of segment seq's fd into out.
    std::error_code pread_all(int fd, std::uint64_t offset, std::uint64_t n, std::string& out);

    local::fs_ops& fs_;
    std::filesystem::path dir_;
    journal_options opt_;
    mutable std::mutex mutex_;
    std::map<std::uint64_t, segment> segments_;
    std::uint64_t current_ = 0;  // 0: none open for appends
    std::uint64_t next_seq_;
    std::unordered_map<std::string, entry> index_;
};

}  // namespace postrider::queue
