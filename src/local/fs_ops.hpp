// local/fs_ops.hpp: the syscall seam for every file the queue and local delivery write.
//
// Owns: a thin virtual table over the POSIX calls that make data durable
//       (open/write/read/fsync/syncfs/rename/unlink/mkdir/close), plus small
//       helpers built only on it (write_all, read_fd, read_file, fsync_dir, make_dirs).
// Trust: paths come from our own code (queue ids validated by queue_id.hpp,
//        maildir paths from mailbox_table.hpp); no parsing of untrusted text here.
// Seam: tests subclass fs_ops and fail the n-th call of an operation with a
//       chosen errno (ENOSPC, EIO), as qmail's substdio and Beast's fail_count do.
//       Every method returns -1 and sets errno on failure, like the syscall.
// See also: docs/queue-format.md ("Flushing"), tests/support/faulty_fs.hpp.
//
// XXX: this lives in local/ only because local_lib is built before queue_lib
//      and both need it; it belongs in a lower, I/O-tier library.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace postrider::local {

class fs_ops {
public:
    virtual ~fs_ops() = default;
    // open - open(2); returns an fd or -1.
    virtual int open(const char* path, int flags, mode_t mode);
    // write - write(2).
    virtual ssize_t write(int fd, const void* data, std::size_t n);
    // read - read(2).
    virtual ssize_t read(int fd, void* data, std::size_t n);
    // fsync - fsync(2) of a file or directory.
    virtual int fsync(int fd);
    // syncfs - syncfs(2): flush every dirty page and inode of fd's filesystem.
    virtual int syncfs(int fd);
    // rename - rename(2); atomic replace within one filesystem.
    virtual int rename(const char* from, const char* to);
    // unlink - unlink(2).
    virtual int unlink(const char* path);
    // mkdir - mkdir(2).
    virtual int mkdir(const char* path, mode_t mode);
    // close - close(2).
    virtual int close(int fd);
    // pwritev - pwritev(2): the journal's appends at a reserved offset.
    virtual ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t offset);
    // pread - pread(2): messages read back from a journal segment.
    virtual ssize_t pread(int fd, void* data, std::size_t n, off_t offset);
    // fdatasync - fdatasync(2) of a journal segment (flush_mode::per_file).
    virtual int fdatasync(int fd);
};

// posix - the process-wide real implementation.
fs_ops& posix();

// last_error - errno as a std::error_code (system category).
std::error_code last_error() noexcept;

// write_all - write every byte, retrying short writes and EINTR.
std::error_code write_all(fs_ops& fs, int fd, std::string_view data);
// write_new_file - create path exclusively (0600), write the parts, optionally fsync, close.
//                  On error the partial file is unlinked.
std::error_code write_new_file(fs_ops& fs, const char* path,
                               std::string_view part1, std::string_view part2, bool do_fsync);
// append_file - append data to an existing file (O_APPEND), optionally fsync.
std::error_code append_file(fs_ops& fs, const std::filesystem::path& path, std::string_view data,
                            bool do_fsync);
// read_fd - the rest of an open file into out (appended), at most max_octets in out (EFBIG
//           beyond). fd stays open.
std::error_code read_fd(fs_ops& fs, int fd, std::string& out, std::size_t max_octets);
// read_file - whole file into out, at most max_octets (EFBIG beyond).
std::error_code read_file(fs_ops& fs, const std::filesystem::path& path, std::string& out,
                          std::size_t max_octets);
// fsync_dir - open a directory read-only and fsync it (makes entries durable).
std::error_code fsync_dir(fs_ops& fs, const std::filesystem::path& dir);
// make_dirs - mkdir -p with mode for every created component; existing dirs are fine.
//             With do_fsync, the parent of each created component is fsynced, so a new
//             directory chain (a user's first maildir) is durable with what is put in it.
std::error_code make_dirs(fs_ops& fs, const std::filesystem::path& dir, mode_t mode, bool do_fsync = false);

}  // namespace postrider::local
