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

#include <memory>
#include <set>

namespace postrider::queue {

disk_worker::disk_worker(local::fs_ops& fs, std::vector<std::filesystem::path> flush_dirs, bool group)
    : fs_(fs), flush_dirs_(std::move(flush_dirs)), group_(group), thread_([this] { loop(); })
{
}

disk_worker::~disk_worker()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
    for (int fd : flush_fds_) fs_.close(fd);
}

void disk_worker::post(job j)
{
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(j));
    }
    cv_.notify_one();
}

void disk_worker::loop()
{
    for (;;) {
        std::deque<job> batch;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping and drained
            batch.swap(queue_);
        }
        process(batch);
    }
}

std::error_code disk_worker::flush()
{
    if (flush_fds_.empty()) {
        std::set<dev_t> seen;  // one syncfs per filesystem, however many dirs share it
        for (const auto& d : flush_dirs_) {
            struct stat st {};
            if (::stat(d.c_str(), &st) != 0) return local::last_error();
            if (!seen.insert(st.st_dev).second) continue;
            int fd = fs_.open(d.c_str(), O_RDONLY | O_DIRECTORY, 0);
            if (fd < 0) return local::last_error();
            flush_fds_.push_back(fd);
        }
    }
    ++flushes_;
    for (int fd : flush_fds_)
        if (fs_.syncfs(fd) != 0) return local::last_error();
    return {};
}

void disk_worker::process(std::deque<job>& batch)
{
    const std::size_t n = batch.size();
    std::vector<std::error_code> result(n);
    std::vector<bool> finished(n, false);
    // finish - report one job's result exactly once.
    auto finish = [&](std::size_t i) {
        finished[i] = true;
        if (result[i] && batch[i].undo) batch[i].undo();
        if (batch[i].done) batch[i].done(result[i]);
    };
    for (std::size_t k = 0;; ++k) {
        std::vector<std::size_t> ran;
        bool want_flush = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (finished[i]) continue;
            if (k >= batch[i].phases.size()) { finish(i); continue; }
            result[i] = batch[i].phases[k]();
            if (result[i]) { finish(i); continue; }
            ran.push_back(i);
            want_flush = want_flush || batch[i].needs_flush;
        }
        if (ran.empty()) return;
        if (group_ && want_flush) {
            if (auto ec = flush()) {
                // syncfs failed: nothing written in this round is known durable.
                for (std::size_t i : ran) { result[i] = ec; finish(i); }
                continue;
            }
        }
        for (std::size_t i : ran)  // release jobs whose last phase just became durable
            if (k + 1 == batch[i].phases.size()) finish(i);
    }
}

boost::asio::awaitable<std::error_code> run(disk_worker& w, std::vector<disk_worker::phase> phases,
                                            std::function<void()> undo, bool needs_flush)
{
    auto ex = co_await boost::asio::this_coro::executor;
    auto init = [&w, &phases, &undo, needs_flush, ex](auto handler) {
        using handler_t = decltype(handler);
        auto h = std::make_shared<handler_t>(std::move(handler));
        auto tracked = boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked);
        disk_worker::job j;
        j.phases = std::move(phases);
        j.undo = std::move(undo);
        j.needs_flush = needs_flush;
        j.done = [h, tracked](std::error_code ec) {
            boost::asio::post(tracked, [h, ec]() { std::move(*h)(ec); });
        };
        w.post(std::move(j));
    };
    co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                   void(std::error_code)>(init, boost::asio::use_awaitable);
}

}  // namespace postrider::queue
