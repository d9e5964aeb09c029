// pickup/maildrop.cpp: maildrop directory I/O (see maildrop.hpp).
#include "pickup/maildrop.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>
#include <cerrno>
#include <ctime>

#include "queue/queue_id.hpp"

namespace postrider::pickup {
namespace fs = std::filesystem;
namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

// make_dir - mkdir 0700 unless it exists; chown to owner when we are root.
std::error_code make_dir(const fs::path& p, uid_t uid, gid_t gid, bool chown_it)
{
    if (::mkdir(p.c_str(), 0700) != 0) {
        if (errno == EEXIST) return {};
        return last_error();
    }
    if (chown_it && ::chown(p.c_str(), uid, gid) != 0) return last_error();
    return {};
}

// fsync_path - open and fsync a directory (makes a rename in it durable).
std::error_code fsync_path(const fs::path& p)
{
    int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return last_error();
    std::error_code ec;
    if (::fsync(fd) != 0) ec = last_error();
    ::close(fd);
    return ec;
}

// write_all - the whole buffer, retrying short writes and EINTR.
std::error_code write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

}  // namespace

fs::path maildrop_path(const fs::path& queue_dir) { return queue_dir / "maildrop"; }

std::error_code ensure_maildrop(const fs::path& queue_dir)
{
    struct stat st{};
    bool existed = ::stat(queue_dir.c_str(), &st) == 0;
    if (!existed) {
        std::error_code ec;
        fs::create_directories(queue_dir.parent_path().empty() ? fs::path(".") : queue_dir.parent_path(), ec);
        if (auto e = make_dir(queue_dir, 0, 0, false)) return e;
        if (::stat(queue_dir.c_str(), &st) != 0) return last_error();
    }
    const bool as_root = ::geteuid() == 0 && st.st_uid != 0;
    const auto md = maildrop_path(queue_dir);
    for (const auto& p : {md, md / "tmp", md / "new", md / "quarantine"})
        if (auto e = make_dir(p, st.st_uid, st.st_gid, as_root)) return e;
    return {};
}

std::error_code share_maildrop(const fs::path& queue_dir, gid_t gid)
{
    const auto md = maildrop_path(queue_dir);
    const std::pair<fs::path, mode_t> dirs[] = {
        {queue_dir, 0710}, {md, 01730}, {md / "tmp", 01730}, {md / "new", 01730}};
    for (const auto& [p, mode] : dirs) {
        // Only what differs is changed, so a daemon running as the service user works on
        // directories packaging prepared (it may not be a member of the group itself).
        // The group is set before the mode, so no moment grants a wrong group access.
        struct stat st{};
        if (::lstat(p.c_str(), &st) != 0) return last_error();
        if (!S_ISDIR(st.st_mode)) return std::make_error_code(std::errc::not_a_directory);
        if (st.st_gid != gid && ::chown(p.c_str(), static_cast<uid_t>(-1), gid) != 0) return last_error();
        if ((st.st_mode & 07777) != mode && ::chmod(p.c_str(), mode) != 0) return last_error();
    }
    return {};
}

std::error_code write_drop(const fs::path& maildrop, const std::string& name, std::string_view bytes)
{
    const auto tmp = maildrop / "tmp" / name;
    const auto dst = maildrop / "new" / name;
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return last_error();
    auto ec = write_all(fd, bytes);
    // Root writes for a daemon that may run as the service user: give it the file.
    struct stat dir{};
    if (!ec && ::geteuid() == 0 && ::stat(maildrop.c_str(), &dir) == 0 && dir.st_uid != 0 &&
        ::fchown(fd, dir.st_uid, dir.st_gid) != 0)
        ec = last_error();
    if (!ec && ::fsync(fd) != 0) ec = last_error();
    if (::close(fd) != 0 && !ec) ec = last_error();
    if (!ec && ::rename(tmp.c_str(), dst.c_str()) != 0) ec = last_error();
    if (ec) {
        ::unlink(tmp.c_str());
        return ec;
    }
    if (auto e = fsync_path(maildrop / "new")) return e;  // rename done: the message stays (pickup takes it)
    return {};
}

std::vector<std::string> list_new(const fs::path& maildrop)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(maildrop / "new", ec), end; !ec && it != end; it.increment(ec)) {
        auto name = it->path().filename().string();
        if (queue::is_valid_queue_id(name)) out.push_back(std::move(name));
    }
    std::sort(out.begin(), out.end());
    return out;
}

read_result read_drop(const fs::path& maildrop, const std::string& name, std::size_t max_octets)
{
    read_result r;
    const auto p = maildrop / "new" / name;
    int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP) r.refusal = "a symbolic link";
        else r.ec = last_error();
        return r;
    }
    struct stat st{};
    if (::fstat(fd, &st) != 0) r.ec = last_error();
    else if (!S_ISREG(st.st_mode)) r.refusal = "not a regular file";
    else if (st.st_nlink != 1) r.refusal = "has more than one link";
    else if (static_cast<std::uint64_t>(st.st_size) > max_octets) r.refusal = "larger than the read limit";
    if (r.ec || !r.refusal.empty()) {
        ::close(fd);
        return r;
    }
    r.owner = st.st_uid;
    r.bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < r.bytes.size()) {
        auto n = ::read(fd, r.bytes.data() + got, r.bytes.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            r.ec = last_error();
            break;
        }
        if (n == 0) break;  // shrank under us: the decoder will see a short file
        got += static_cast<std::size_t>(n);
    }
    r.bytes.resize(got);
    ::close(fd);
    return r;
}

std::error_code remove_drop(const fs::path& maildrop, const std::string& name)
{
    if (::unlink((maildrop / "new" / name).c_str()) != 0) return last_error();
    return {};
}

std::error_code quarantine_drop(const fs::path& maildrop, const std::string& name)
{
    if (::rename((maildrop / "new" / name).c_str(), (maildrop / "quarantine" / name).c_str()) != 0) return last_error();
    return {};
}

std::size_t clean_tmp(const fs::path& maildrop, long max_age_s)
{
    std::size_t removed = 0;
    const auto now = std::time(nullptr);
    std::error_code ec;
    for (fs::directory_iterator it(maildrop / "tmp", ec), end; !ec && it != end; it.increment(ec)) {
        struct stat st{};
        if (::lstat(it->path().c_str(), &st) == 0 && now - st.st_mtime > max_age_s &&
            ::unlink(it->path().c_str()) == 0)
            ++removed;
    }
    return removed;
}

}  // namespace postrider::pickup
