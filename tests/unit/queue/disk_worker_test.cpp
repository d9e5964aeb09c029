#include "support/catch.hpp"

#include "queue/disk_worker.hpp"
#include "support/faulty_fs.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace postrider;
using namespace postrider::queue;
using namespace std::chrono_literals;

namespace {

// gate - a one-shot latch with a deadline, so a broken worker fails the test instead of hanging it.
class gate {
public:
    void open()
    {
        std::lock_guard lock(m_);
        open_ = true;
        cv_.notify_all();
    }
    bool wait(std::chrono::milliseconds limit = 5000ms)
    {
        std::unique_lock lock(m_);
        return cv_.wait_for(lock, limit, [this] { return open_; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
};

}  // namespace

TEST_CASE("group mode: jobs staged while the stager was busy share one flush round", "[disk_worker]")
{
    test::temp_dir t;
    constexpr int n = 50;
    std::mutex m;
    std::condition_variable cv;
    int done = 0, failed = 0;
    gate first_may_finish;
    bool first_waited = false;
    {
        disk_worker w(local::posix(), {t.path()}, true, 1);
        auto job = [&](bool first) {
            disk_worker::job j;
            j.phases.push_back([&, first] {
                if (first) first_waited = first_may_finish.wait();
                return std::error_code{};
            });
            j.done = [&](std::error_code ec) {
                std::lock_guard lock(m);
                ++done;
                if (ec) ++failed;
                cv.notify_all();
            };
            return j;
        };
        w.post(job(true));  // holds the only stager until the other 49 are queued
        for (int i = 1; i < n; ++i) w.post(job(false));
        first_may_finish.open();
        std::unique_lock lock(m);
        REQUIRE(cv.wait_for(lock, 10s, [&] { return done == n; }));
        CHECK(first_waited);
        CHECK(failed == 0);
        // The first job's round, then one for the 49 taken together (or all 50 in one).
        CHECK(w.flushes() >= 1);
        CHECK(w.flushes() <= 2);
    }
}

TEST_CASE("group mode: a two-phase job gets a flush between its phases and one after", "[disk_worker]")
{
    test::temp_dir t;
    disk_worker w(local::posix(), {t.path()}, true, 1);
    std::uint64_t at_second = 0;
    gate finished;
    std::uint64_t at_done = 0;
    disk_worker::job j;
    j.phases.push_back([] { return std::error_code{}; });
    j.phases.push_back([&] {
        at_second = w.flushes();
        return std::error_code{};
    });
    j.done = [&](std::error_code) {
        at_done = w.flushes();
        finished.open();
    };
    w.post(std::move(j));
    REQUIRE(finished.wait());
    CHECK(at_second == 1);
    CHECK(at_done == 2);
}

TEST_CASE("resume_on: done runs on the executor's thread, never the worker's", "[disk_worker]")
{
    test::temp_dir t;
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::thread::id io_thread;
    std::vector<std::thread::id> seen;
    std::vector<std::error_code> results;
    {
        disk_worker w(local::posix(), {t.path()}, true, 1);
        for (int i = 0; i < 3; ++i) {
            disk_worker::job j;
            j.phases.push_back([i] { return i == 1 ? std::make_error_code(std::errc::io_error) : std::error_code{}; });
            j.done = [&](std::error_code ec) {
                seen.push_back(std::this_thread::get_id());
                results.push_back(ec);
                if (seen.size() == 3) guard.reset();
            };
            j.resume_on = io.get_executor();
            w.post(std::move(j));
        }
        std::thread runner([&] {
            io_thread = std::this_thread::get_id();
            io.run_for(10s);
        });
        runner.join();
    }
    REQUIRE(seen.size() == 3);
    for (auto id : seen) CHECK(id == io_thread);
    CHECK(std::count(results.begin(), results.end(), std::make_error_code(std::errc::io_error)) == 1);
}

TEST_CASE("per-file mode: stagers take one job each, so slow phases run side by side", "[disk_worker]")
{
    test::temp_dir t;
    gate a_started, b_started;
    bool a_saw_b = false, b_saw_a = false;
    gate both_done;
    std::mutex m;
    int done = 0;
    disk_worker w(local::posix(), {t.path()}, false, 2);
    auto finish = [&](std::error_code) {
        std::lock_guard lock(m);
        if (++done == 2) both_done.open();
    };
    disk_worker::job a, b;
    a.phases.push_back([&] {
        a_started.open();
        a_saw_b = b_started.wait(2000ms);  // false when the jobs ran one after the other
        return std::error_code{};
    });
    b.phases.push_back([&] {
        b_started.open();
        b_saw_a = a_started.wait(2000ms);
        return std::error_code{};
    });
    a.done = finish;
    b.done = finish;
    w.post(std::move(a));
    w.post(std::move(b));
    REQUIRE(both_done.wait(10s));
    CHECK(a_saw_b);
    CHECK(b_saw_a);
    CHECK(w.flushes() == 0);  // per-file: phases flush themselves
}

TEST_CASE("group mode: an urgent job is staged while the other stager is held up", "[disk_worker]")
{
    test::temp_dir t;
    gate slow_may_finish, urgent_done;
    bool slow_waited = false;
    std::uint64_t flushes_at_urgent = 0;
    {
        disk_worker w(local::posix(), {t.path()}, true, 1);
        disk_worker::job slow;
        slow.phases.push_back([&] {
            slow_waited = slow_may_finish.wait();  // a maildir copy on a slow filesystem
            return std::error_code{};
        });
        w.post(std::move(slow));
        disk_worker::job commit;
        commit.urgent = true;
        commit.phases.push_back([] { return std::error_code{}; });
        commit.done = [&](std::error_code) {
            flushes_at_urgent = w.flushes();
            urgent_done.open();
        };
        w.post(std::move(commit));
        CHECK(urgent_done.wait());  // before the slow job lets go
        slow_may_finish.open();
    }
    CHECK(slow_waited);
    CHECK(flushes_at_urgent >= 1);  // released by a flush like any other job
}

TEST_CASE("group mode: a round whose filesystems could not all be opened fails; the next syncs them all",
          "[disk_worker]")
{
    test::temp_dir t;
    const std::filesystem::path other = "/dev/shm";  // another filesystem than the temp dir
    struct stat a {}, b {};
    REQUIRE(::stat(t.path().c_str(), &a) == 0);
    if (::stat(other.c_str(), &b) != 0 || a.st_dev == b.st_dev) {
        WARN("no second filesystem at /dev/shm: not checked");
        return;
    }
    test::faulty_fs fs;
    fs.fail(test::op::open, 2, EMFILE);  // the second filesystem's directory, once
    disk_worker w(fs, {t.path(), other}, true, 1);
    auto run_one = [&w] {
        std::error_code got;
        gate finished;
        disk_worker::job j;
        j.phases.push_back([] { return std::error_code{}; });
        j.done = [&](std::error_code ec) {
            got = ec;
            finished.open();
        };
        w.post(std::move(j));
        REQUIRE(finished.wait());
        return got;
    };
    CHECK(run_one() == std::errc::too_many_files_open);
    CHECK(fs.calls(test::op::syncfs) == 0);
    CHECK_FALSE(run_one());
    CHECK(fs.calls(test::op::syncfs) == 2);  // both filesystems, not only the one opened first
}
