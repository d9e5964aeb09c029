// commands/postdrop_client.cpp: running postrider-postdrop (see postdrop_client.hpp).
#include "commands/postdrop_client.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace postrider::commands {
namespace fs = std::filesystem;

namespace {

// write_all - the whole buffer to fd (the helper may stop reading early: EPIPE ends it).
void write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the exit status says why
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// read_some - up to max bytes from fd until EOF.
std::string read_some(int fd, std::size_t max)
{
    std::string out;
    char buf[256];
    for (;;) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (out.size() < max) out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

}  // namespace

std::string postdrop_path(const config::settings& s)
{
    if (!s.postdrop_helper.empty()) return s.postdrop_helper;
    std::error_code ec;
    auto self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return "postrider-postdrop";
    return (self.parent_path() / "postrider-postdrop").string();
}

postdrop_result run_postdrop(const config::settings& s, std::string_view record)
{
    postdrop_result r;
    const std::string helper = postdrop_path(s);
    std::error_code ec;
    const std::string queue_dir = fs::absolute(s.queue_dir, ec).lexically_normal().string();
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return {EX_OSERR, {}, std::string("pipe: ") + std::strerror(errno)};
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        return {EX_OSERR, {}, std::string("pipe: ") + std::strerror(errno)};
    }
    posix_spawn_file_actions_t fa;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    ::posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::string arg0 = "postrider-postdrop", arg1 = queue_dir;
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    char* envp[] = {nullptr};  // the helper clears it anyway; we give it nothing to clear
    pid_t pid = -1;
    const int spawn_error = ::posix_spawn(&pid, helper.c_str(), &fa, nullptr, argv, envp);
    ::posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (spawn_error != 0) {
        ::close(in[1]);
        ::close(out[0]);
        r.status = EX_NOPERM;
        r.error = "the maildrop is not writable for this user and the postdrop helper " + helper +
                  " cannot be run: " + std::strerror(spawn_error) + " (see docs/security.md)";
        return r;
    }
    write_all(in[1], record);
    ::close(in[1]);
    std::string name = read_some(out[0], 64);
    ::close(out[0]);
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(wstatus)) {
        r.status = EX_TEMPFAIL;
        r.error = helper + " killed by signal " + std::to_string(WTERMSIG(wstatus));
        return r;
    }
    r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : EX_SOFTWARE;
    if (r.status == EX_OK) {
        while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
        r.name = name;
    }
    return r;
}

}  // namespace postrider::commands
