// local/forward_read.cpp: forward-file reading and symlink checks (blocking I/O).
#include "local/forward_read.hpp"

#include "local/forward_file.hpp"
#include "local/fs_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <string>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace postrider::local {
namespace {

// fd_guard - closes a descriptor at scope exit.
struct fd_guard {
    int fd = -1;
    ~fd_guard()
    {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

expansion_facts read_forward_facts(const std::filesystem::path& mail_root, const expansion_plan& p)
{
    expansion_facts f;
    f.owner_exists.assign(p.owners.size(), false);
    for (std::size_t i = 0; i < p.owners.size(); ++i) {
        const auto& o = p.owners[i];
        if (o.path_to_stat.empty()) continue;
        struct stat st {};
        f.owner_exists[i] = ::lstat((mail_root / o.path_to_stat).c_str(), &st) == 0 &&
                            (o.expect_file ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode));
    }
    if (p.user_dir.empty() || p.forward_files.empty()) return f;
    fd_guard dir;
    dir.fd = ::open((mail_root / p.user_dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir.fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return f;  // no directory yet: no files
        f.io_error = "user directory: " + std::error_code(errno, std::generic_category()).message();
        return f;
    }
    for (const auto& name : p.forward_files) {
        fd_guard file;
        file.fd = ::openat(dir.fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (file.fd < 0 && errno == ENOENT) continue;
        if (file.fd < 0) {
            f.io_error = "forward file " + name + ": " +
                         (errno == ELOOP ? std::string("is a symlink (not followed)")
                                         : std::error_code(errno, std::generic_category()).message());
            return f;
        }
        struct stat st {};
        if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            f.io_error = "forward file " + name + ": not a regular file";
            return f;
        }
        // Read through the fs_ops seam (the open is openat(O_NOFOLLOW), which the seam has not).
        if (auto ec = read_fd(posix(), file.fd, f.file_text, max_forward_file_octets)) {
            f.io_error = "forward file " + name + ": " +
                         (ec == std::errc::file_too_large
                              ? "larger than " + std::to_string(max_forward_file_octets) + " octets"
                              : ec.message());
            f.file_text.clear();
            return f;
        }
        f.file_name = name;
        return f;
    }
    return f;
}

std::string symlink_below(const std::filesystem::path& mail_root, const std::string& user_dir, const std::string& target)
{
    if (user_dir.empty() || target.size() <= user_dir.size() || target.compare(0, user_dir.size(), user_dir) != 0 ||
        target[user_dir.size()] != '/')
        return {};
    std::filesystem::path p = mail_root / user_dir;
    for (const auto& part : std::filesystem::path(target.substr(user_dir.size() + 1))) {
        if (part.empty()) continue;
        p /= part;
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0) return {};  // not there yet: created as a directory
        if (S_ISLNK(st.st_mode)) return "maildir path in a forward file goes through a symlink (not followed)";
        if (!S_ISDIR(st.st_mode)) return "maildir path in a forward file is not a directory";
    }
    // The delivery writes into tmp/ and renames into new/ below the target: a symlink there
    // would put the copy in someone else's maildir just as well as one above it.
    for (const char* sub : {"tmp", "new", "cur"}) {
        struct stat st {};
        if (::lstat((p / sub).c_str(), &st) != 0) continue;  // created as a directory
        if (S_ISLNK(st.st_mode)) return "maildir in a forward file has a symlinked " + std::string(sub) + "/ (not followed)";
        if (!S_ISDIR(st.st_mode)) return "maildir in a forward file has a " + std::string(sub) + " that is not a directory";
    }
    return {};
}

}  // namespace postrider::local
