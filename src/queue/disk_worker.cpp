// queue/disk_worker.cpp: the group-commit disk thread.
#include "queue/disk_worker.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <set>

namespace postrider::queue {

disk_worker::disk_worker(local::fs_ops& fs, std::vector<std::filesystem::path> flush_dirs, bool group,
                         std::size_t stagers)
    : fs_(fs), flush_dirs_(std::move(flush_dirs)), group_(group)
{
    threads_.emplace_back([this] { flusher_loop(); });
    for (std::size_t i = 0; i < (stagers ? stagers : 1); ++i) threads_.emplace_back([this] { stager_loop(false); });
    if (group_) threads_.emplace_back([this] { stager_loop(true); });
}

void disk_worker::wake_all()
{
    stage_cv_.notify_all();
    urgent_cv_.notify_all();
    flush_cv_.notify_all();
}

disk_worker::~disk_worker()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_all();
    for (auto& t : threads_) t.join();
    for (int fd : flush_fds_) fs_.close(fd);
}

void disk_worker::post(job j)
{
    const bool urgent = j.urgent;
    {
        std::lock_guard lock(mutex_);
        ++outstanding_;
        queue_for(urgent).push_back({std::move(j), 0});
    }
    cv_for(urgent).notify_one();
}

void disk_worker::finish(finished& jobs)
{
    if (jobs.empty()) return;
    // done calls for an executor, posted as one handler: N coroutines resume on one wake-up.
    std::vector<std::pair<boost::asio::any_io_executor, std::vector<std::function<void()>>>> posts;
    for (auto& [p, ec] : jobs) {
        if (ec && p.j.undo) p.j.undo();
        if (!p.j.done) continue;
        if (!p.j.resume_on) {
            p.j.done(ec);
            continue;
        }
        auto it = std::find_if(posts.begin(), posts.end(), [&](auto& e) { return e.first == p.j.resume_on; });
        if (it == posts.end()) it = posts.insert(posts.end(), {p.j.resume_on, {}});
        it->second.push_back([done = std::move(p.j.done), ec = ec]() mutable { done(ec); });
    }
    for (auto& [ex, calls] : posts)
        boost::asio::post(ex, [calls = std::move(calls)]() mutable {
            for (auto& c : calls) c();
        });
    std::lock_guard lock(mutex_);
    outstanding_ -= jobs.size();
    if (outstanding_ == 0 && stopping_) wake_all();
}

void disk_worker::run_phases(pending p, std::vector<pending>& flush_out, finished& out)
{
    while (p.next_phase < p.j.phases.size()) {
        if (auto ec = p.j.phases[p.next_phase]()) {
            out.emplace_back(std::move(p), ec);
            return;
        }
        ++p.next_phase;
        if (group_ && p.j.needs_flush && (p.j.flush_last || p.next_phase < p.j.phases.size())) {
            flush_out.push_back(std::move(p));
            return;
        }
    }
    out.emplace_back(std::move(p), std::error_code{});
}

void disk_worker::enqueue_flush(std::vector<pending>& ps)
{
    if (ps.empty()) return;
    {
        std::lock_guard lock(mutex_);
        for (auto& p : ps) flush_q_.push_back(std::move(p));
    }
    flush_cv_.notify_one();
    ps.clear();
}

void disk_worker::stager_loop(bool urgent)
{
    std::deque<pending>& queue = queue_for(urgent);
    std::condition_variable& cv = cv_for(urgent);
    std::deque<pending> batch;
    std::vector<pending> to_flush;
    finished done;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            cv.wait(lock, [&] { return !queue.empty() || drained(); });
            if (queue.empty()) return;
            if (group_) {
                batch.swap(queue);
            } else {
                batch.push_back(std::move(queue.front()));
                queue.pop_front();
            }
        }
        for (auto& p : batch) run_phases(std::move(p), to_flush, done);
        batch.clear();
        enqueue_flush(to_flush);
        finish(done);
        done.clear();
    }
}

void disk_worker::flusher_loop()
{
    finished done;
    for (;;) {
        std::deque<pending> batch;
        {
            std::unique_lock lock(mutex_);
            flush_cv_.wait(lock, [this] { return !flush_q_.empty() || drained(); });
            if (flush_q_.empty()) return;
            batch.swap(flush_q_);
        }
        // Every job in batch finished its phase before this syncfs starts.
        std::error_code ec = flush();
        std::deque<pending> more;
        for (auto& p : batch) {
            if (ec) done.emplace_back(std::move(p), ec);  // nothing of this round is known durable
            else if (p.next_phase < p.j.phases.size()) more.push_back(std::move(p));
            else done.emplace_back(std::move(p), std::error_code{});
        }
        finish(done);
        done.clear();
        if (more.empty()) continue;
        bool any_urgent = false;
        {
            std::lock_guard lock(mutex_);
            for (auto& p : more) {
                any_urgent = any_urgent || p.j.urgent;
                queue_for(p.j.urgent).push_back(std::move(p));
            }
        }
        if (group_) {  // one stager of each kind takes them all
            stage_cv_.notify_one();
            if (any_urgent) urgent_cv_.notify_one();
        } else {
            stage_cv_.notify_all();
        }
    }
}

std::error_code disk_worker::flush()
{
    if (flush_fds_.empty()) {
        // All or none: a partial set would let a later round skip a filesystem's syncfs.
        std::vector<int> fds;
        auto fail = [&] {
            auto ec = local::last_error();
            for (int fd : fds) fs_.close(fd);
            return ec;
        };
        std::set<dev_t> seen;  // one syncfs per filesystem, however many dirs share it
        for (const auto& d : flush_dirs_) {
            struct stat st {};
            if (::stat(d.c_str(), &st) != 0) return fail();
            if (!seen.insert(st.st_dev).second) continue;
            int fd = fs_.open(d.c_str(), O_RDONLY | O_DIRECTORY, 0);
            if (fd < 0) return fail();
            fds.push_back(fd);
        }
        flush_fds_ = std::move(fds);
    }
    ++flushes_;
    for (int fd : flush_fds_)
        if (fs_.syncfs(fd) != 0) return local::last_error();
    return {};
}

boost::asio::awaitable<std::error_code> run(disk_worker& w, std::vector<disk_worker::phase> phases,
                                            std::function<void()> undo, bool needs_flush, bool flush_last,
                                            bool urgent)
{
    auto ex = co_await boost::asio::this_coro::executor;
    auto init = [&w, &phases, &undo, needs_flush, flush_last, urgent, ex](auto handler) {
        using handler_t = decltype(handler);
        auto h = std::make_shared<handler_t>(std::move(handler));
        auto tracked = boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked);
        disk_worker::job j;
        j.phases = std::move(phases);
        j.undo = std::move(undo);
        j.needs_flush = needs_flush;
        j.flush_last = flush_last;
        j.urgent = urgent;
        j.done = [h](std::error_code ec) { std::move(*h)(ec); };  // on tracked, posted by the worker
        j.resume_on = tracked;
        w.post(std::move(j));
    };
    co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                   void(std::error_code)>(init, boost::asio::use_awaitable);
}

}  // namespace postrider::queue
