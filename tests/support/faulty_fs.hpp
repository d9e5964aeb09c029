// tests/support/faulty_fs.hpp: fs_ops with injected failures and call counters (test seam).
//
// Trust: test-only. Fails the n-th call (1-based) of an operation with a chosen
// errno, optionally every call from then on (one plan per operation, so two
// operations can fail in one run); counts every call per operation; can slow
// syncfs down so concurrent jobs pile up into one round.
// XXX: belongs in tests/support/ (fault_plan.hpp) once that exists; shared by local tests.
#pragma once

#include "local/fs_ops.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>

namespace postrider::test {

enum class op { open, write, read, fsync, syncfs, rename, unlink, mkdir, close, pwrite, pread, fdatasync, count_ };

class faulty_fs : public local::fs_ops {
public:
    // fail - make the n-th call of o (and all later ones when sticky) fail with err.
    //        Replaces o's earlier plan; other operations keep theirs.
    void fail(op o, int n, int err, bool sticky = false)
    {
        std::lock_guard lock(mutex_);
        plans_[static_cast<std::size_t>(o)] = {n, err, sticky};
    }
    // heal - stop failing, every operation.
    void heal()
    {
        std::lock_guard lock(mutex_);
        plans_ = {};
    }
    // calls - how many times o was called so far.
    int calls(op o)
    {
        std::lock_guard lock(mutex_);
        return calls_[static_cast<std::size_t>(o)];
    }
    std::chrono::milliseconds syncfs_delay{0};

    int open(const char* p, int f, mode_t m) override { return hit(op::open) ? -1 : fs_ops::open(p, f, m); }
    ssize_t write(int fd, const void* d, std::size_t n) override { return hit(op::write) ? -1 : fs_ops::write(fd, d, n); }
    ssize_t read(int fd, void* d, std::size_t n) override { return hit(op::read) ? -1 : fs_ops::read(fd, d, n); }
    int fsync(int fd) override { return hit(op::fsync) ? -1 : fs_ops::fsync(fd); }
    int syncfs(int fd) override
    {
        if (hit(op::syncfs)) return -1;
        if (syncfs_delay.count()) std::this_thread::sleep_for(syncfs_delay);
        return fs_ops::syncfs(fd);
    }
    int rename(const char* a, const char* b) override { return hit(op::rename) ? -1 : fs_ops::rename(a, b); }
    int unlink(const char* p) override { return hit(op::unlink) ? -1 : fs_ops::unlink(p); }
    int mkdir(const char* p, mode_t m) override { return hit(op::mkdir) ? -1 : fs_ops::mkdir(p, m); }
    int close(int fd) override
    {
        hit(op::close);
        return fs_ops::close(fd);  // never leak the fd, even when "failing"
    }
    ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t off) override
    {
        return hit(op::pwrite) ? -1 : fs_ops::pwritev(fd, iov, n, off);
    }
    ssize_t pread(int fd, void* d, std::size_t n, off_t off) override
    {
        return hit(op::pread) ? -1 : fs_ops::pread(fd, d, n, off);
    }
    int fdatasync(int fd) override { return hit(op::fdatasync) ? -1 : fs_ops::fdatasync(fd); }

private:
    // hit - count a call; true (errno set) when it must fail.
    bool hit(op o)
    {
        std::lock_guard lock(mutex_);
        int n = ++calls_[static_cast<std::size_t>(o)];
        const plan& p = plans_[static_cast<std::size_t>(o)];
        if (p.at > 0 && (n == p.at || (p.sticky && n > p.at))) {
            errno = p.err;
            return true;
        }
        return false;
    }

    struct plan {
        int at = 0;  // 0: never fail
        int err = EIO;
        bool sticky = false;
    };
    std::mutex mutex_;
    std::array<int, static_cast<std::size_t>(op::count_)> calls_{};
    std::array<plan, static_cast<std::size_t>(op::count_)> plans_{};
};

}  // namespace postrider::test
