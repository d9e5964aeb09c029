// queue/disk_worker.hpp: one disk thread that runs file jobs and shares flushes among them.
//
// Owns: the group commit. Jobs queue up while a round runs; the next round
//       takes all of them, runs each job's phase k, then ONE flush (syncfs of
//       each configured filesystem) releases every job whose phases are done.
//       Jobs with two phases (maildir: write, then rename) get a flush between
//       their phases, so a rename never reaches the disk before its data.
// Trust: runs our own closures; no input parsing.
// Threads: post() is thread-safe. Phases and undo run on the worker thread;
//       done is called on the worker thread and must only post (see run()).
// See also: store.hpp, docs/queue-format.md ("Group commit").
#pragma once

#include "local/fs_ops.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace postrider::queue {

class disk_worker {
public:
    using phase = std::function<std::error_code()>;
    struct job {
        std::vector<phase> phases;               // run in order, one per round step
        std::function<void()> undo;              // after a failed flush (may be empty)
        bool needs_flush = true;                 // false: reads and removals
        std::function<void(std::error_code)> done;  // first error, or success
    };

    // disk_worker - start the thread; group=false means phases flush themselves (no syncfs).
    disk_worker(local::fs_ops& fs, std::vector<std::filesystem::path> flush_dirs, bool group);
    // ~disk_worker - run every queued job to completion, then join.
    ~disk_worker();
    disk_worker(const disk_worker&) = delete;
    disk_worker& operator=(const disk_worker&) = delete;

    // post - queue a job; thread-safe.
    void post(job j);
    // flushes - how many flush rounds (syncfs batches) ran; for tests and benchmarks.
    std::uint64_t flushes() const noexcept { return flushes_.load(); }

private:
    // loop - the thread: take every queued job, process, repeat.
    void loop();
    // process - run one round over a batch of jobs.
    void process(std::deque<job>& batch);
    // flush - syncfs every configured filesystem once.
    std::error_code flush();

    local::fs_ops& fs_;
    std::vector<std::filesystem::path> flush_dirs_;
    std::vector<int> flush_fds_;  // opened lazily on the worker thread
    bool group_;
    std::atomic<std::uint64_t> flushes_{0};
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<job> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

// run - await a job: phases run on w's thread, the caller resumes on its own
//       executor with the first error (or success). Keeps the executor's work
//       count up while waiting. Captured references must live in the caller's
//       coroutine frame (it stays alive while suspended here).
boost::asio::awaitable<std::error_code> run(disk_worker& w, std::vector<disk_worker::phase> phases,
                                            std::function<void()> undo, bool needs_flush);

}  // namespace postrider::queue
