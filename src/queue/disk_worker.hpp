// queue/disk_worker.hpp: disk threads that run file jobs and share flushes among them.
//
// Owns: the group commit, as a two-stage pipeline. Stager threads run job
//       phases (write + rename, no fsync); one flusher thread takes every job
//       whose phase has finished, runs ONE flush (syncfs of each configured
//       filesystem) and releases them all. While a syncfs runs, the stagers
//       prepare the next round. Hand-offs are per round, not per job (see the
//       constructor and job::resume_on). A job's phase is always complete
//       before the syncfs that releases it starts. Jobs with two phases
//       (maildir: write, then rename) get a flush between their phases, so a
//       rename never reaches the disk before its data.
// Trust: runs our own closures; no input parsing.
// Threads: post() is thread-safe. Phases and undo run on worker threads (jobs of
//       one caller may run in parallel: callers order dependent jobs by awaiting);
//       done is called on a worker thread and must only post (see run()).
// See also: store.hpp, docs/queue-format.md ("Group commit").
#pragma once

#include "local/fs_ops.hpp"

#include <boost/asio/any_io_executor.hpp>
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
        bool flush_last = true;                  // false: no flush after the final phase (it only
                                                 // acts on what the flush before it made durable)
        std::function<void(std::error_code)> done;  // first error, or success
        // resume_on: where done runs. Empty: on the worker thread. Set: the worker posts the
        // done calls of one round to it together, one hand-off per round instead of per job.
        boost::asio::any_io_executor resume_on;
        // urgent: a client waits on it (a commit's 250). In group mode such jobs have a stager
        // of their own, so they never queue behind maildir copies (whose file creation can
        // take a millisecond each on a filesystem that skips recently freed inodes).
        bool urgent = false;
    };

    // disk_worker - start stagers + a flusher; group=false means phases flush themselves (no syncfs).
    //   In group mode a stager takes every staged job at once (phases only write to the page
    //   cache there, so one thread keeps up and each round costs one wake-up, not one per job);
    //   otherwise one job at a time, so slow phases (fsync, programs) run side by side.
    disk_worker(local::fs_ops& fs, std::vector<std::filesystem::path> flush_dirs, bool group,
                std::size_t stagers = 4);
    // ~disk_worker - run every queued job to completion, then join.
    ~disk_worker();
    disk_worker(const disk_worker&) = delete;
    disk_worker& operator=(const disk_worker&) = delete;

    // post - queue a job; thread-safe.
    void post(job j);
    // flushes - how many flush rounds (syncfs batches) ran; for tests and benchmarks.
    std::uint64_t flushes() const noexcept { return flushes_.load(); }

private:
    struct pending {
        job j;
        std::size_t next_phase = 0;
    };
    // stager_loop - run staged phases: of urgent jobs (their own queue) or of the others.
    void stager_loop(bool urgent);
    // queue_for / cv_for - an urgent job's stage queue and wake-up, or the others'.
    std::deque<pending>& queue_for(bool urgent) { return urgent && group_ ? urgent_q_ : stage_q_; }
    std::condition_variable& cv_for(bool urgent) { return urgent && group_ ? urgent_cv_ : stage_cv_; }
    // wake_all - every thread, to see stopping_ (mutex_ not needed).
    void wake_all();
    // flusher_loop - flush everything staged so far, release or requeue it.
    void flusher_loop();
    using finished = std::vector<std::pair<pending, std::error_code>>;
    // run_phases - run p's phases until one fails or needs a flush; route it to flush_out or out.
    void run_phases(pending p, std::vector<pending>& flush_out, finished& out);
    // enqueue_flush - hand jobs to the flusher (one lock, one wake-up).
    void enqueue_flush(std::vector<pending>& ps);
    // finish - undo on error, call or post done (grouped by executor), count the jobs out.
    void finish(finished& jobs);
    // flush - syncfs every configured filesystem once (flusher thread only).
    std::error_code flush();
    // drained - stopping and nothing left (mutex_ held).
    bool drained() const { return stopping_ && outstanding_ == 0; }

    local::fs_ops& fs_;
    std::vector<std::filesystem::path> flush_dirs_;
    std::vector<int> flush_fds_;  // opened lazily on the flusher thread
    bool group_;
    std::atomic<std::uint64_t> flushes_{0};
    std::mutex mutex_;
    std::condition_variable stage_cv_, urgent_cv_, flush_cv_;
    std::deque<pending> stage_q_, urgent_q_, flush_q_;
    std::size_t outstanding_ = 0;  // posted and not finished
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

// run - await a job: phases run on w's thread, the caller resumes on its own
//       executor with the first error (or success). Keeps the executor's work
//       count up while waiting. Captured references must live in the caller's
//       coroutine frame (it stays alive while suspended here).
boost::asio::awaitable<std::error_code> run(disk_worker& w, std::vector<disk_worker::phase> phases,
                                            std::function<void()> undo, bool needs_flush, bool flush_last = true,
                                            bool urgent = false);

}  // namespace postrider::queue
