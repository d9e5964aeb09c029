// queue/journal.cpp: write-ahead journal segments (see journal.hpp, docs/queue-format.md).
#include "queue/journal.hpp"

#include "core/escape.hpp"
#include "log/log.hpp"
#include "queue/segment.hpp"

#include <fcntl.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace postrider::queue {

namespace fs = std::filesystem;

namespace {

// segment_name - SEQ as 16 lower-case hex digits (names sort in sequence order).
std::string segment_name(std::uint64_t seq)
{
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(seq));
    return buf;
}

// parse_segment_name - the SEQ of a segment file name, or 0 when it is not one.
std::uint64_t parse_segment_name(const std::string& name)
{
    if (name.size() != 16) return 0;
    std::uint64_t v = 0;
    for (char c : name) {
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | static_cast<std::uint64_t>(d);
    }
    return v;
}

iovec iov_of(std::string_view s) { return {const_cast<char*>(s.data()), s.size()}; }

}  // namespace

journal::journal(local::fs_ops& fs, fs::path dir, journal_options o, std::uint64_t last_seq)
    : fs_(fs), dir_(std::move(dir)), opt_(o), next_seq_(last_seq + 1)
{
}

journal::~journal()
{
    for (auto& [seq, s] : segments_) fs_.close(s.fd);
}

fs::path journal::path_of(std::uint64_t seq) const { return dir_ / segment_name(seq); }

std::error_code journal::reserve(std::uint64_t n, std::uint64_t& seq)
{
    if (current_) {
        const segment& s = segments_.at(current_);
        const bool full = s.size > 0 && s.size + n > opt_.rotate_bytes;
        const bool old = s.size > 0 && std::chrono::steady_clock::now() - s.opened >= opt_.rotate_age;
        if (full || old) {
            current_ = 0;
            retire();  // the closed segment may already be all done
        }
    }
    if (!current_) {
        const std::uint64_t sq = next_seq_++;
        int fd = fs_.open(path_of(sq).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0) return local::last_error();
        // Created once per segment: per_file makes its name durable now; in group mode the
        // round's syncfs does (it covers directory entries too).
        if (opt_.sync) {
            if (auto ec = local::fsync_dir(fs_, dir_)) {
                fs_.close(fd);
                fs_.unlink(path_of(sq).c_str());
                return ec;
            }
        }
        segments_[sq] = segment{fd, 0, 0, std::chrono::steady_clock::now()};
        current_ = sq;
    }
    seq = current_;
    return {};
}

std::error_code journal::write_at_end(const iovec* iov, int count, std::uint64_t n, std::uint64_t& seq,
                                      std::uint64_t& offset)
{
    if (auto ec = reserve(n, seq)) return ec;
    segment& s = segments_.at(seq);
    offset = s.size;
    ssize_t w;
    do w = fs_.pwritev(s.fd, iov, count, static_cast<off_t>(offset));
    while (w < 0 && errno == EINTR);
    if (w < 0 || static_cast<std::uint64_t>(w) != n) {
        std::error_code ec = w < 0 ? local::last_error() : std::make_error_code(std::errc::no_space_on_device);
        // Whatever part of the record landed stays the segment's final, torn record: no
        // later record may follow it, so appends move on to a new segment.
        current_ = 0;
        retire();
        return ec;
    }
    s.size = offset + n;
    return {};
}

std::error_code journal::append_message(const envelope& env, std::string_view head, std::string_view body)
{
    message_frame f = frame_message(env, head, body);
    iovec iov[4] = {iov_of(f.prefix), iov_of(head), iov_of(body), iov_of(f.suffix)};
    const std::uint64_t n = f.size();
    std::uint64_t seq = 0, offset = 0;
    int fd = -1;
    {
        std::lock_guard lock(mutex_);
        if (index_.count(env.queue_id)) return std::make_error_code(std::errc::file_exists);
        if (auto ec = write_at_end(iov, 4, n, seq, offset)) return ec;
        segment& s = segments_.at(seq);
        ++s.live;  // pinned before the lock drops: the fd stays open for the fdatasync below
        fd = s.fd;
        entry e;
        e.seq = seq;
        e.env_offset = offset + 5 + 4 + env.queue_id.size() + 4;
        e.content_offset = offset + f.prefix.size();
        e.env_size = e.content_offset - 8 - e.env_offset;
        e.content_size = f.content_size;
        index_.emplace(env.queue_id, std::move(e));
    }
    if (opt_.sync && fs_.fdatasync(fd) != 0) {
        auto ec = local::last_error();
        done(env.queue_id);
        return ec;
    }
    return {};
}

bool journal::holds(const std::string& id) const
{
    std::lock_guard lock(mutex_);
    return index_.count(id) != 0;
}

std::error_code journal::pread_all(int fd, std::uint64_t offset, std::uint64_t n, std::string& out)
{
    out.resize(n);
    std::uint64_t got = 0;
    while (got < n) {
        ssize_t r = fs_.pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return local::last_error();
        if (r == 0) return std::make_error_code(std::errc::io_error);  // segment shorter than indexed
        got += static_cast<std::uint64_t>(r);
    }
    return {};
}

std::optional<std::error_code> journal::read_message(const std::string& id, std::string& out)
{
    int fd;
    std::uint64_t offset, n;
    {
        std::lock_guard lock(mutex_);
        auto it = index_.find(id);
        if (it == index_.end()) return std::nullopt;
        fd = segments_.at(it->second.seq).fd;  // pinned by id: not closed while we read
        offset = it->second.content_offset;
        n = it->second.content_size;
    }
    return pread_all(fd, offset, n, out);
}

std::error_code journal::load(const std::string& id, envelope& env, std::vector<outcome>& outcomes,
                              std::string& content)
{
    int fd;
    entry e;
    {
        std::lock_guard lock(mutex_);
        auto it = index_.find(id);
        if (it == index_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
        e = it->second;
        fd = segments_.at(e.seq).fd;
    }
    std::string env_bytes;
    if (auto ec = pread_all(fd, e.env_offset, e.env_size, env_bytes)) return ec;
    if (!parse_envelope_payload(env_bytes, env)) return std::make_error_code(std::errc::io_error);
    if (auto ec = pread_all(fd, e.content_offset, e.content_size, content)) return ec;
    outcomes = std::move(e.outcomes);
    return {};
}

std::error_code journal::append_outcome(const std::string& id, const outcome& o)
{
    const std::string rec = encode_journal_outcome(id, o);
    iovec iov = iov_of(rec);
    std::uint64_t seq = 0, offset = 0;
    int fd;
    {
        std::lock_guard lock(mutex_);
        auto it = index_.find(id);
        if (it == index_.end()) return std::make_error_code(std::errc::no_such_file_or_directory);
        if (auto ec = write_at_end(&iov, 1, rec.size(), seq, offset)) return ec;
        it->second.outcomes.push_back(o);
        // The outcome's segment is it->second.seq's or a later one, so retiring in order keeps it
        // as long as the message is live; the fd of seq stays open: the message pins an older one.
        fd = segments_.at(seq).fd;
        if (!opt_.sync) return {};
        // per_file: flush under the lock (the fd of the current segment could be retired otherwise).
        if (fs_.fdatasync(fd) != 0) return local::last_error();
    }
    return {};
}

void journal::set_migrating(const std::string& id, bool on)
{
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(id); it != index_.end()) it->second.migrating = on;
}

bool journal::migrating(const std::string& id) const
{
    std::lock_guard lock(mutex_);
    auto it = index_.find(id);
    return it != index_.end() && it->second.migrating;
}

bool journal::done(const std::string& id)
{
    const std::string rec = encode_done(id);
    iovec iov = iov_of(rec);
    std::lock_guard lock(mutex_);
    auto it = index_.find(id);
    if (it == index_.end()) return false;
    const bool was_migrating = it->second.migrating;
    std::uint64_t seq = 0, offset = 0;
    // Best effort: a lost done record only repeats the delivery after a crash (deduplicated
    // locally by the maildir tag; remote is at-least-once anyway).
    if (auto ec = write_at_end(&iov, 1, rec.size(), seq, offset))
        log::warn("{}: journal done record failed error=\"{}\"", id, core::escape(ec.message()));
    --segments_.at(it->second.seq).live;
    index_.erase(it);
    retire();
    return was_migrating;
}

void journal::retire()
{
    while (!segments_.empty()) {
        auto it = segments_.begin();
        segment& s = it->second;
        if (s.live > 0) return;
        // The current segment goes too when nothing is left in it: an idle queue keeps no
        // segment (and no timer is needed to retire one); the next commit starts a new one.
        if (it->first == current_) current_ = 0;
        fs_.close(s.fd);
        // No flush: a segment that comes back after a crash holds only done messages (or
        // repeats some, at-least-once); its done records are in it or in a later segment.
        if (fs_.unlink(path_of(it->first).c_str()) != 0 && errno != ENOENT)
            log::warn("queue: journal segment {} unlink failed error=\"{}\" (retried at next start)",
                      segment_name(it->first), core::escape(local::last_error().message()));
        segments_.erase(it);
    }
}

std::size_t journal::segment_count() const
{
    std::lock_guard lock(mutex_);
    return segments_.size();
}

journal_replay journal::replay(local::fs_ops& fs, const fs::path& dir, const fs::path& corrupt_dir)
{
    return read_segments(fs, dir, &corrupt_dir);
}

journal_replay journal::peek(local::fs_ops& fs, const fs::path& dir) { return read_segments(fs, dir, nullptr); }

journal_replay journal::read_segments(local::fs_ops& fs, const fs::path& dir, const fs::path* corrupt_dir)
{
    const bool quiet = corrupt_dir == nullptr;
    journal_replay r;
    std::vector<std::pair<std::uint64_t, fs::path>> segs;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (std::uint64_t seq = parse_segment_name(name)) segs.emplace_back(seq, e.path());
        else if (!quiet) log::warn("queue: journal/{} is not a segment name; left alone", core::escape(name));
    }
    std::sort(segs.begin(), segs.end());
    for (std::size_t i = 0; i < segs.size(); ++i) {
        const auto& [seq, path] = segs[i];
        r.last_seq = std::max(r.last_seq, seq);
        std::string bytes;
        // A segment is at most rotate_bytes plus one record; anything larger is not ours.
        if (auto rec = local::read_file(fs, path, bytes, 1024u * 1024 * 1024)) {
            if (quiet) continue;  // retired while we looked
            log::error("queue: journal segment {} unreadable error=\"{}\"; left in place",
                       segment_name(seq), core::escape(rec.message()));
            continue;
        }
        const bool last = i + 1 == segs.size();
        segment_scan scan = scan_segment(bytes, last);
        for (auto& e : scan.entries) {
            switch (e.type) {
            case segment_record::message: {
                replayed_message m;
                m.content.assign(bytes, e.content_offset, e.env.message_size);
                m.env = std::move(e.env);
                r.live[e.queue_id] = std::move(m);
                break;
            }
            case segment_record::outcome:
                if (auto it = r.live.find(e.queue_id); it != r.live.end()) {
                    if (e.result.recipient < it->second.env.recipients.size())
                        it->second.outcomes.push_back(std::move(e.result));
                }
                break;
            case segment_record::done: r.live.erase(e.queue_id); break;
            }
        }
        if (quiet) {
            r.segments.push_back(path);
            continue;
        }
        if (scan.end == segment_end::corrupt) {
            log::warn("queue: journal segment {} damaged at offset {} reason=\"{}\"; {} records before it used, "
                      "segment quarantined to corrupt/",
                      segment_name(seq), scan.valid_bytes, core::escape(scan.what), scan.entries.size());
            fs::path to = *corrupt_dir / ("journal-" + segment_name(seq));
            if (fs.rename(path.c_str(), to.c_str()) == 0) {
                ++r.quarantined;
                continue;
            }
        } else if (scan.end == segment_end::torn_tail) {
            log::info("queue: journal segment {} torn tail ignored at offset {} ({} octets never acknowledged)",
                      segment_name(seq), scan.valid_bytes, bytes.size() - scan.valid_bytes);
            ++r.torn;
        }
        r.segments.push_back(path);
    }
    return r;
}

}  // namespace postrider::queue
