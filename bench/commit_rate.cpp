// bench/commit_rate.cpp: queue commits per second, group commit vs fsync per message.
//
// Trust: benchmark only; writes a throwaway queue under --dir and removes it.
// Usage: commit_rate [--dir D] [--mode group|per_file|threads] [--submitters N] [--seconds S] [--size BYTES]
//   group     the manager as shipped: N coroutines submit(), one syncfs per round
//   per_file  the manager with flush_mode::per_file (fsync each file and dir, one disk thread)
//   threads   the classic baseline at its best: N OS threads, each running
//             store::commit(per_file) back to back (fsync per message, in parallel)
// Deliveries are stopped (manager::stop) so only the commit path is measured:
// 250-equivalents per second = commits completed with ok per second.
#include "local/mailbox_table.hpp"
#include "queue/manager.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace postrider;

namespace {

struct options {
    std::filesystem::path dir = "/var/tmp/postrider-bench";
    queue::flush_mode mode = queue::flush_mode::group;
    bool threads = false;
    int submitters = 1;
    double seconds = 5;
    std::size_t size = 4096;
};

// parse - command-line flags; exits on bad input.
options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--dir") o.dir = v;
        else if (k == "--mode") {
            o.threads = v == "threads";
            o.mode = v == "group" ? queue::flush_mode::group : queue::flush_mode::per_file;
        }
        else if (k == "--submitters") o.submitters = std::stoi(v);
        else if (k == "--seconds") o.seconds = std::stod(v);
        else if (k == "--size") o.size = std::stoul(v);
        else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); std::exit(2); }
    }
    return o;
}

// submitter_loop - commit messages back to back until the deadline.
boost::asio::awaitable<void> submitter_loop(queue::manager& m, std::string body,
                                            std::chrono::steady_clock::time_point end, long* ok, long* failed)
{
    while (std::chrono::steady_clock::now() < end) {
        queue::new_message msg;
        msg.sender = "bench@example.org";
        msg.recipients.push_back({"sink@example.org", "", 0});
        msg.content = body;
        msg.protocol = "ESMTP";
        auto r = co_await m.submit(m.allocate_id(), std::move(msg));
        ++*(r.ok ? ok : failed);
    }
}

// run_threads - the fsync-per-message baseline: N threads committing directly.
int run_threads(const options& o)
{
    queue::store st(local::posix(), o.dir / "queue", queue::flush_mode::per_file);
    st.create_dirs();
    queue::queue_id_generator ids;
    std::string body = "Subject: bench\r\n\r\n" + std::string(o.size > 20 ? o.size - 20 : 0, 'x') + "\r\n";
    std::atomic<long> ok{0}, failed{0};
    auto start = std::chrono::steady_clock::now();
    auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(o.seconds));
    std::vector<std::thread> pool;
    for (int i = 0; i < o.submitters; ++i)
        pool.emplace_back([&] {
            while (std::chrono::steady_clock::now() < end) {
                queue::envelope e;
                e.queue_id = ids.next();
                e.sender = "bench@example.org";
                e.recipients.push_back({"sink@example.org", "", 0});
                ++(st.commit(e.queue_id, body, e) ? failed : ok);
            }
        });
    for (auto& t : pool) t.join();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("mode=threads submitters=%d size=%zu commits=%ld failed=%ld seconds=%.2f commits_per_s=%.0f\n",
                o.submitters, o.size, ok.load(), failed.load(), elapsed, static_cast<double>(ok.load()) / elapsed);
    std::filesystem::remove_all(o.dir);
    return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv)
{
    options o = parse(argc, argv);
    std::filesystem::remove_all(o.dir);
    if (o.threads) return run_threads(o);
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    queue::settings s;
    s.queue_dir = o.dir / "queue";
    s.mail_root = o.dir / "mail";
    s.hostname = "bench.example.org";
    s.flush = o.mode;
    long ok = 0, failed = 0;
    double elapsed = 0;
    std::uint64_t flushes = 0;
    {
        queue::manager m(io.get_executor(), s, table);
        m.start();
        m.stop();
        std::string body = "Subject: bench\r\n\r\n" + std::string(o.size > 20 ? o.size - 20 : 0, 'x') + "\r\n";
        auto start = std::chrono::steady_clock::now();
        auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(o.seconds));
        for (int i = 0; i < o.submitters; ++i)
            boost::asio::co_spawn(io, submitter_loop(m, body, end, &ok, &failed), [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
            });
        io.run();
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        flushes = m.stats().flushes;
    }
    std::printf("mode=%s submitters=%d size=%zu commits=%ld failed=%ld seconds=%.2f commits_per_s=%.0f "
                "syncfs_rounds=%llu commits_per_round=%.1f\n",
                o.mode == queue::flush_mode::group ? "group" : "per_file", o.submitters, o.size, ok, failed,
                elapsed, static_cast<double>(ok) / elapsed, static_cast<unsigned long long>(flushes),
                flushes ? static_cast<double>(ok) / static_cast<double>(flushes) : 0.0);
    std::filesystem::remove_all(o.dir);
    return failed ? 1 : 0;
}
