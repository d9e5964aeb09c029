// local/program_runner.cpp: see program_runner.hpp.
#include "local/program_runner.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace postrider::local {
namespace {

using clock = std::chrono::steady_clock;
constexpr std::size_t chunk = 64 * 1024;
constexpr std::chrono::milliseconds linger{1000};  // output drained after the program exited

// fd - owns one descriptor.
class fd {
public:
    explicit fd(int f = -1) : f_(f) {}
    ~fd() { reset(); }
    fd(const fd&) = delete;
    fd& operator=(const fd&) = delete;
    int get() const { return f_; }
    bool open() const { return f_ >= 0; }
    void reset(int f = -1)
    {
        if (f_ >= 0) ::close(f_);
        f_ = f;
    }

private:
    int f_;
};

// make_pipe - a CLOEXEC pipe whose ends are above 2: a daemon started with stdio closed
//             must not hand the child a pipe end as the wrong one of its fds 0-2.
bool make_pipe(fd& r, fd& w)
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return false;
    for (int& e : p)
        if (e <= 2) {
            const int moved = ::fcntl(e, F_DUPFD_CLOEXEC, 3);
            ::close(e);
            e = moved;
        }
    r.reset(p[0]);
    w.reset(p[1]);
    return r.open() && w.open();
}

// open_pidfd - a descriptor readable once pid exits (Linux 5.3), or -1: then run() polls
//              waitpid. By syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++.
int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

void set_nonblocking(int f) { ::fcntl(f, F_SETFL, ::fcntl(f, F_GETFL) | O_NONBLOCK); }

// c_strings - a NULL-terminated array of pointers into v (which must outlive it).
std::vector<char*> c_strings(const std::vector<std::string>& v)
{
    std::vector<char*> out;
    for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// spawn - start the child: fds 0-2 from the pipes, nothing else open, default signals,
//         empty signal mask, own process group, cwd. Returns errno-style 0 or the error.
int spawn(const program_spec& spec, int stdin_fd, int output_fd, pid_t& pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, output_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, output_fd, 2);
    posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);  // whatever was not CLOEXEC
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);  // the daemon ignores SIGPIPE: the child must not
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    auto argv = c_strings(spec.argv);
    auto envp = c_strings(spec.env);
    const int rc = ::posix_spawn(&pid, argv[0], &fa, &at, argv.data(), envp.data());  // no PATH search
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

// sigpipe_block - SIGPIPE blocked in this thread while in scope; a SIGPIPE our writes
//                 raised is taken off the thread's pending set before the mask is restored.
class sigpipe_block {
public:
    sigpipe_block()
    {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    }
    ~sigpipe_block()
    {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    sigpipe_block(const sigpipe_block&) = delete;
    sigpipe_block& operator=(const sigpipe_block&) = delete;

private:
    sigset_t pipe_, old_;
};

// child_run - the parent's side of one running child.
class child_run {
public:
    child_run(const program_spec& spec, pid_t pid, fd& in, fd& out, std::string_view head, std::string_view body)
        : spec_(spec), pid_(pid), in_(in), out_(out), head_(head), body_(body),
          pidfd_(open_pidfd(pid))
    {
        set_nonblocking(in_.get());
        set_nonblocking(out_.get());
        if (head_.empty() && body_.empty()) in_.reset();  // EOF at once
    }

    // run - poll until the child has exited and its output is drained (or linger ran out),
    //       the timeout struck or cancel fired; then reap.
    program_end run(program_result& r, const program_canceller* cancel)
    {
        const auto deadline = clock::now() + spec_.timeout;
        std::optional<clock::time_point> linger_end;
        while (!(exited_ && (!out_.open() || clock::now() >= *linger_end))) {
            const auto now = clock::now();
            if (!exited_ && now >= deadline) return kill_and_reap(program_end::kind::timed_out);
            const auto until = exited_ ? *linger_end : deadline;
            int wait_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
            if (!pidfd_.open() && !exited_) wait_ms = std::min(wait_ms, 20);  // no pidfd: poll waitpid
            pollfd p[4];
            int n = 0, in_i = -1, out_i = -1, pid_i = -1, cancel_i = -1;
            if (in_.open()) p[in_i = n++] = {in_.get(), POLLOUT, 0};
            if (out_.open()) p[out_i = n++] = {out_.get(), POLLIN, 0};
            if (pidfd_.open() && !exited_) p[pid_i = n++] = {pidfd_.get(), POLLIN, 0};
            if (cancel && !exited_) p[cancel_i = n++] = {cancel->fd(), POLLIN, 0};
            if (::poll(p, static_cast<nfds_t>(n), std::max(wait_ms, 0)) < 0 && errno != EINTR)
                return kill_and_reap(program_end::kind::timed_out);  // cannot watch it: do not wait blind
            if (cancel_i >= 0 && p[cancel_i].revents) return kill_and_reap(program_end::kind::cancelled);
            if (in_i >= 0 && p[in_i].revents) feed();
            if (out_i >= 0 && p[out_i].revents) drain(r);
            if ((pid_i >= 0 && p[pid_i].revents) || (!pidfd_.open() && !exited_)) try_reap();
            if (exited_ && !linger_end) {
                in_.reset();
                linger_end = std::min(clock::now() + linger, std::max(deadline, clock::now()));
            }
        }
        return status_;
    }

private:
    // feed - write what the pipe takes now; EOF (close) when all is written, stop on EPIPE.
    void feed()
    {
        while (in_.open()) {
            const bool in_head = sent_ < head_.size();
            const auto part = in_head ? head_.substr(sent_) : body_.substr(sent_ - head_.size());
            const ssize_t n = ::write(in_.get(), part.data(), std::min(part.size(), chunk));
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN) in_.reset();  // EPIPE: it stopped reading, its exit code decides
                return;
            }
            sent_ += static_cast<std::size_t>(n);
            if (sent_ == head_.size() + body_.size()) in_.reset();
        }
    }
    // drain - read what is there; keep up to output_limit octets.
    void drain(program_result& r)
    {
        char buf[chunk];
        for (;;) {
            const ssize_t n = ::read(out_.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return;
            if (n <= 0) {
                out_.reset();
                return;
            }
            const auto room = spec_.output_limit - std::min(spec_.output_limit, r.output.size());
            r.output.append(buf, std::min(room, static_cast<std::size_t>(n)));
            if (static_cast<std::size_t>(n) > room) r.output_truncated = true;
        }
    }
    // try_reap - collect the child's status if it has exited.
    void try_reap()
    {
        int st = 0;
        pid_t got;
        do got = ::waitpid(pid_, &st, WNOHANG);
        while (got < 0 && errno == EINTR);
        if (got != pid_) return;
        exited_ = true;
        status_ = WIFSIGNALED(st) ? program_end{program_end::kind::signalled, WTERMSIG(st)}
                                  : program_end{program_end::kind::exited, WEXITSTATUS(st)};
    }
    // kill_and_reap - SIGKILL the child's process group (it is not reaped yet, so its pid and
    //                 group id cannot have been reused), then wait for the child.
    program_end kill_and_reap(program_end::kind why)
    {
        ::kill(-pid_, SIGKILL);
        ::kill(pid_, SIGKILL);  // in case it left its group
        int st = 0;
        while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
        exited_ = true;
        return {why, 0};
    }

    const program_spec& spec_;
    pid_t pid_;
    fd& in_;
    fd& out_;
    std::string_view head_, body_;
    fd pidfd_;
    std::size_t sent_ = 0;
    bool exited_ = false;
    program_end status_;
};

// clean - a value for the environment: NUL cannot be passed.
std::string clean(std::string_view v)
{
    std::string s(v);
    s.erase(std::remove(s.begin(), s.end(), '\0'), s.end());
    return s;
}

}  // namespace

std::vector<std::string> program_environment(const program_context& c)
{
    std::vector<std::string> env = {
        "SENDER=" + clean(c.sender), "RECIPIENT=" + clean(c.recipient), "LOCAL=" + clean(c.local),
        "EXT=" + clean(c.ext),       "HOST=" + clean(c.host),           "HOME=" + clean(c.home.string()),
        "PATH=/usr/bin:/bin",
    };
    if (c.default_part) env.push_back("DEFAULT=" + clean(*c.default_part));
    return env;
}

program_canceller::program_canceller() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

program_canceller::~program_canceller()
{
    if (fd_ >= 0) ::close(fd_);
}

void program_canceller::cancel()
{
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);  // level-triggered from now on
}

program_result run_program(const program_spec& spec, std::string_view head, std::string_view body,
                           const program_canceller* cancel)
{
    program_result r;
    if (spec.argv.empty() || spec.argv[0].empty() || spec.argv[0][0] != '/') {
        r.output = "program is not an absolute path";
        return r;
    }
    fd in_r, in_w, out_r, out_w;
    if (!make_pipe(in_r, in_w) || !make_pipe(out_r, out_w)) {
        r.output = std::string("cannot make a pipe: ") + std::strerror(errno);
        return r;
    }
    const sigpipe_block no_sigpipe;  // before the spawn: the child's mask is set explicitly
    pid_t pid = -1;
    if (const int rc = spawn(spec, in_r.get(), out_w.get(), pid); rc != 0) {
        r.output = std::strerror(rc);
        return r;
    }
    r.pid = pid;
    in_r.reset();
    out_w.reset();  // the child holds the only write end now: EOF when it (and its own children) close it
    child_run c(spec, pid, in_w, out_r, head, body);
    r.end = c.run(r, cancel);
    return r;
}

}  // namespace postrider::local
