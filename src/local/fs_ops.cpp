// local/fs_ops.cpp: POSIX implementation of the syscall seam and its helpers.
#include "local/fs_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace postrider::local {

int fs_ops::open(const char* path, int flags, mode_t mode) { return ::open(path, flags | O_CLOEXEC, mode); }
ssize_t fs_ops::write(int fd, const void* data, std::size_t n) { return ::write(fd, data, n); }
ssize_t fs_ops::read(int fd, void* data, std::size_t n) { return ::read(fd, data, n); }
int fs_ops::fsync(int fd) { return ::fsync(fd); }
int fs_ops::syncfs(int fd) { return ::syncfs(fd); }
int fs_ops::rename(const char* from, const char* to) { return ::rename(from, to); }
int fs_ops::unlink(const char* path) { return ::unlink(path); }
int fs_ops::mkdir(const char* path, mode_t mode) { return ::mkdir(path, mode); }
int fs_ops::close(int fd) { return ::close(fd); }
ssize_t fs_ops::pwritev(int fd, const struct iovec* iov, int n, off_t offset) { return ::pwritev(fd, iov, n, offset); }
ssize_t fs_ops::pread(int fd, void* data, std::size_t n, off_t offset) { return ::pread(fd, data, n, offset); }
int fs_ops::fdatasync(int fd) { return ::fdatasync(fd); }

fs_ops& posix()
{
    static fs_ops real;
    return real;
}

std::error_code last_error() noexcept
{
    return {errno, std::system_category()};
}

std::error_code write_all(fs_ops& fs, int fd, std::string_view data)
{
    while (!data.empty()) {
        ssize_t n = fs.write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        if (n == 0) return std::make_error_code(std::errc::io_error);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

std::error_code write_new_file(fs_ops& fs, const char* path,
                               std::string_view part1, std::string_view part2, bool do_fsync)
{
    int fd = fs.open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return last_error();
    std::error_code ec = write_all(fs, fd, part1);
    if (!ec) ec = write_all(fs, fd, part2);
    if (!ec && do_fsync && fs.fsync(fd) != 0) ec = last_error();
    // close(2) can report a deferred write error (NFS); treat it as one.
    if (fs.close(fd) != 0 && !ec) ec = last_error();
    if (ec) fs.unlink(path);
    return ec;
}

std::error_code append_file(fs_ops& fs, const std::filesystem::path& path, std::string_view data,
                            bool do_fsync)
{
    int fd = fs.open(path.c_str(), O_WRONLY | O_APPEND, 0);
    if (fd < 0) return last_error();
    std::error_code ec = write_all(fs, fd, data);
    if (!ec && do_fsync && fs.fsync(fd) != 0) ec = last_error();
    if (fs.close(fd) != 0 && !ec) ec = last_error();
    return ec;
}

std::error_code read_fd(fs_ops& fs, int fd, std::string& out, std::size_t max_octets)
{
    char buf[65536];
    for (;;) {
        ssize_t n = fs.read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        if (n == 0) return {};
        if (out.size() + static_cast<std::size_t>(n) > max_octets) return std::make_error_code(std::errc::file_too_large);
        out.append(buf, static_cast<std::size_t>(n));
    }
}

std::error_code read_file(fs_ops& fs, const std::filesystem::path& path, std::string& out,
                          std::size_t max_octets)
{
    out.clear();
    int fd = fs.open(path.c_str(), O_RDONLY, 0);
    if (fd < 0) return last_error();
    // Reserve the size up front: growing by doubling would peak at 1.5x the file (a 25 MiB message).
    if (struct stat st {}; ::fstat(fd, &st) == 0 && st.st_size > 0)
        out.reserve(std::min(static_cast<std::size_t>(st.st_size), max_octets));
    auto ec = read_fd(fs, fd, out, max_octets);
    fs.close(fd);
    return ec;
}

std::error_code fsync_dir(fs_ops& fs, const std::filesystem::path& dir)
{
    int fd = fs.open(dir.c_str(), O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) return last_error();
    std::error_code ec;
    if (fs.fsync(fd) != 0) ec = last_error();
    fs.close(fd);
    return ec;
}

std::error_code make_dirs(fs_ops& fs, const std::filesystem::path& dir, mode_t mode, bool do_fsync)
{
    // Every maildir delivery asks for tmp/, new/ and cur/: one stat answers the usual case
    // instead of a mkdir per path component (about 20 syscalls per delivery).
    if (struct stat st {}; ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
    std::filesystem::path cur;
    for (const auto& part : dir) {
        cur /= part;
        if (part.empty() || part == "/") continue;
        if (fs.mkdir(cur.c_str(), mode) == 0) {
            if (do_fsync)
                if (auto ec = fsync_dir(fs, cur.parent_path().empty() ? "." : cur.parent_path())) return ec;
        } else if (errno != EEXIST) {
            return last_error();
        }
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return last_error();
    if (!S_ISDIR(st.st_mode)) return std::make_error_code(std::errc::not_a_directory);
    return {};
}

}  // namespace postrider::local
