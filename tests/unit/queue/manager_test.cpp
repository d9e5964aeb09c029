#include "support/catch.hpp"

#include "local/mailbox_table.hpp"
#include "queue/manager.hpp"
#include "support/faulty_fs.hpp"
#include "support/temp_dir.hpp"

#include "manager_driver.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

using namespace postrider;
using namespace postrider::queue;
using namespace std::chrono_literals;
using test::files_in;
using test::make_message;
using test::make_settings;
using test::maildir_new;
using test::only_message;
using test::run_until;
using test::submit_one;

namespace {

// mailbox_queue - a started manager under a temp dir that serves the mailboxes of table_text
//                 (ADDRESS PATH lines); delimiter: the table's recipient delimiter.
struct mailbox_queue {
    explicit mailbox_queue(std::string_view table_text, std::string_view delimiter = {})
        : table(parse(table_text, delimiter)), mgr(io.get_executor(), make_settings(t), table)
    {
        mgr.start();
    }
    static local::mailbox_table parse(std::string_view text, std::string_view delimiter)
    {
        auto parsed = local::parse_mailbox_table(text);
        REQUIRE(parsed.errors.empty());
        parsed.table.set_recipient_delimiter(delimiter);
        return std::move(parsed.table);
    }
    test::temp_dir t;
    boost::asio::io_context io;
    local::mailbox_table table;
    manager mgr;
    std::optional<commit_result> res;
};

}  // namespace

TEST_CASE("submit commits durably, then the manager delivers to maildirs and removes the message", "[manager]")
{
    test::temp_dir t;
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    manager mgr(io.get_executor(), make_settings(t), table);
    mgr.start();
    std::optional<commit_result> res;
    submit_one(io, mgr, make_message("alice@example.org", {"bob@example.org", "Carol@Example.org"}), res);
    REQUIRE(run_until(io, [&] { return res.has_value(); }));
    REQUIRE(res->ok);
    CHECK(res->queue_id.size() == queue_id_length);
    REQUIRE(run_until(io, [&] { return mgr.queued() == 0 && !maildir_new(t, "example.org", "carol").empty(); }));
    auto got = only_message(t, "example.org", "bob");
    CHECK(got == "Return-Path: <alice@example.org>\nDelivered-To: bob@example.org\n"
                 "Received: from client (127.0.0.1)\nSubject: test\n\nhello\n");
    CHECK(only_message(t, "example.org", "carol").find("Delivered-To: Carol@Example.org\n") != std::string::npos);
    CHECK(files_in(t.path() / "mail/example.org/bob/Maildir/tmp").empty());
    CHECK(mgr.stats().flushes >= 3);  // the commit; before the rename into new/; after it
    CHECK(files_in(t.path() / "queue/mess").empty());
    CHECK(files_in(t.path() / "queue/env").empty());
    CHECK(mgr.idle());
}

TEST_CASE("when submit answers, the message is in the index or the manager is not idle", "[manager]")
{
    // The install is posted after the commit's flush and may run after the answer: in that gap
    // "nothing queued and idle" would tell a caller (shutdown, a test's drain) there is no work.
    mailbox_queue q("bob@example.org example.org/bob/Maildir\n");
    std::size_t queued_at_answer = 0;
    bool idle_at_answer = true;
    boost::asio::co_spawn(q.io, q.mgr.submit(q.mgr.allocate_id(), make_message("alice@example.org", {"bob@example.org"})),
                          [&](std::exception_ptr e, commit_result r) {
                              if (e) std::rethrow_exception(e);
                              queued_at_answer = q.mgr.queued();
                              idle_at_answer = q.mgr.idle();
                              q.res = std::move(r);
                          });
    REQUIRE(run_until(q.io, [&] { return q.res.has_value(); }));
    REQUIRE(q.res->ok);
    CHECK((queued_at_answer == 1 || !idle_at_answer));
    REQUIRE(run_until(q.io, [&] { return q.mgr.queued() == 0 && q.mgr.idle(); }));
    CHECK(maildir_new(q.t, "example.org", "bob").size() == 1);
}

TEST_CASE("files are in mess/ and env/ when submit completes", "[manager]")
{
    test::temp_dir t;
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    manager mgr(io.get_executor(), make_settings(t), table);
    mgr.start();
    mgr.stop();  // no deliveries: the files must stay
    std::optional<commit_result> res;
    submit_one(io, mgr, make_message("alice@example.org", {"bob@example.org"}), res);
    REQUIRE(run_until(io, [&] { return res.has_value(); }));
    REQUIRE(res->ok);
    CHECK(files_in(t.path() / "queue/mess") == std::vector<std::string>{res->queue_id});
    CHECK(files_in(t.path() / "queue/env") == std::vector<std::string>{res->queue_id});
    CHECK(files_in(t.path() / "queue/tmp").empty());
    CHECK(mgr.stats().flushes >= 1);
}

TEST_CASE("injected I/O failure in commit: ok=false, nothing queued, nothing delivered", "[manager]")
{
    struct row { test::op o; int err; const char* reason; };
    auto r = GENERATE(values<row>({{test::op::syncfs, EIO, "Queue file write error"},
                                   {test::op::write, ENOSPC, "Insufficient system storage"},
                                   {test::op::rename, EIO, "Queue file write error"}}));
    INFO("failing op " << static_cast<int>(r.o));
    test::temp_dir t;
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    test::faulty_fs ffs;
    auto s = make_settings(t);
    s.fs = &ffs;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    ffs.fail(r.o, ffs.calls(r.o) + 1, r.err);
    std::optional<commit_result> res;
    submit_one(io, mgr, make_message("alice@example.org", {"bob@example.org"}), res);
    REQUIRE(run_until(io, [&] { return res.has_value(); }));
    CHECK_FALSE(res->ok);
    CHECK(res->reason == r.reason);
    CHECK(res->insufficient_storage == (r.err == ENOSPC));  // the session's 452 4.3.1 vs 451 4.3.0
    run_until(io, [] { return false; }, 1s);  // give a (wrong) delivery the chance to happen
    CHECK(files_in(t.path() / "queue/mess").empty());
    CHECK(files_in(t.path() / "queue/env").empty());
    CHECK(maildir_new(t, "example.org", "bob").empty());
    CHECK(mgr.queued() == 0);

    // The next commit works again (the fault was one call only).
    std::optional<commit_result> res2;
    submit_one(io, mgr, make_message("alice@example.org", {"bob@example.org"}), res2);
    REQUIRE(run_until(io, [&] { return res2 && maildir_new(t, "example.org", "bob").size() == 1 && mgr.queued() == 0; }));
    CHECK(res2->ok);
}

TEST_CASE("concurrent submits share flushes (group commit)", "[manager]")
{
    test::temp_dir t;
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    test::faulty_fs ffs;
    ffs.syncfs_delay = 20ms;  // a slow disk: commits pile up behind the running flush
    auto s = make_settings(t);
    s.fs = &ffs;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    mgr.stop();
    constexpr int n = 32;
    std::vector<std::optional<commit_result>> res(n);
    int before = ffs.calls(test::op::syncfs);
    for (int i = 0; i < n; ++i) submit_one(io, mgr, make_message("a@example.org", {"b@example.org"}), res[static_cast<std::size_t>(i)]);
    REQUIRE(run_until(io, [&] {
        for (auto& r : res) if (!r) return false;
        return true;
    }));
    for (auto& r : res) CHECK(r->ok);
    int syncs = ffs.calls(test::op::syncfs) - before;
    INFO("syncfs calls for " << n << " commits: " << syncs);
    CHECK(syncs >= 1);
    CHECK(syncs < n / 4);
    CHECK(files_in(t.path() / "queue/env").size() == static_cast<std::size_t>(n));
}

TEST_CASE("start() recovers the schedule, cleans tmp/ and quarantines corrupt envelopes", "[manager]")
{
    test::temp_dir t;
    auto table = local::mailbox_table::defaults({"example.org"});
    std::string kept, corrupt;
    {
        // First life: queue two messages without delivering them, then "crash".
        boost::asio::io_context io;
        manager mgr(io.get_executor(), make_settings(t), table);
        mgr.start();
        mgr.stop();
        std::optional<commit_result> a, b;
        submit_one(io, mgr, make_message("alice@example.org", {"bob@example.org", "far@remote.example"}), a);
        submit_one(io, mgr, make_message("alice@example.org", {"carol@example.org"}), b);
        REQUIRE(run_until(io, [&] { return a && b; }));
        REQUIRE((a->ok && b->ok));
        kept = a->queue_id;
        corrupt = b->queue_id;
    }
    test::spit(t.path() / "queue/env" / corrupt, "garbage");
    test::spit(t.path() / "queue/tmp/leftover", "x");

    boost::asio::io_context io;
    manager mgr(io.get_executor(), make_settings(t), table);
    mgr.start();
    CHECK(files_in(t.path() / "queue/tmp").empty());
    CHECK(files_in(t.path() / "queue/corrupt").size() == 2);
    // bob is delivered; the remote recipient is deferred, so the message stays queued.
    REQUIRE(run_until(io, [&] { return maildir_new(t, "example.org", "bob").size() == 1; }));
    run_until(io, [] { return false; }, 1s);
    CHECK(mgr.queued() == 1);
    CHECK(mgr.idle());  // a deferred message waiting for its timer is not work in flight
    CHECK(maildir_new(t, "example.org", "carol").empty());
    auto d = decode_env_file(test::slurp(t.path() / "queue/env" / kept));
    REQUIRE(d.file);
    REQUIRE(d.file->journal.size() == 2);
    for (const auto& o : d.file->journal) {
        if (o.recipient == 0) CHECK(o.kind == outcome_kind::delivered);
        else {
            CHECK(o.kind == outcome_kind::deferred);
            CHECK(o.reason == "remote delivery not yet available");
            CHECK(o.next_attempt_us - o.at_us == 300 * 1000000LL);
        }
    }
}

TEST_CASE("unknown local user fails permanently and bounces to a local sender", "[manager]")
{
    mailbox_queue q("alice@example.org example.org/alice/Maildir\n"
                    "bob@example.org example.org/bob/Maildir\n");
    submit_one(q.io, q.mgr, make_message("alice@example.org", {"bob@example.org", "nobody@example.org"}), q.res);
    REQUIRE(run_until(q.io, [&] {
        return q.res && q.mgr.queued() == 0 && maildir_new(q.t, "example.org", "alice").size() == 1;
    }));
    CHECK(maildir_new(q.t, "example.org", "bob").size() == 1);
    auto dsn = only_message(q.t, "example.org", "alice");
    CHECK(dsn.find("Return-Path: <>\n") == 0);
    CHECK(dsn.find("Content-Type: multipart/report; report-type=delivery-status;") != std::string::npos);
    CHECK(dsn.find("Final-Recipient: rfc822; nobody@example.org\nAction: failed\nStatus: 5.1.1\n") != std::string::npos);
    CHECK(dsn.find("Final-Recipient: rfc822; bob@example.org") == std::string::npos);
    CHECK(dsn.find("Subject: test\n") != std::string::npos);  // original headers attached
    CHECK(files_in(q.t.path() / "queue/env").empty());
}

TEST_CASE("NOTIFY=NEVER suppresses the bounce (RFC 3461 4.1)", "[manager]")
{
    mailbox_queue q("alice@example.org example.org/alice/Maildir\n");
    auto m = make_message("alice@example.org", {"nobody@example.org"});
    m.recipients[0].notify = notify_never;
    submit_one(q.io, q.mgr, std::move(m), q.res);
    REQUIRE(run_until(q.io, [&] { return q.res && files_in(q.t.path() / "queue/env").empty() && q.mgr.queued() == 0; }));
    run_until(q.io, [] { return false; }, 1s);
    CHECK(maildir_new(q.t, "example.org", "alice").empty());
    CHECK(files_in(q.t.path() / "queue/env").empty());
}

TEST_CASE("queue lifetime expiry bounces; a null sender never gets a bounce", "[manager]")
{
    test::temp_dir t;
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    auto s = make_settings(t);
    s.max_lifetime = 0s;  // the first temporary failure is already past the lifetime
    std::vector<std::string> results;  // what the metrics observers see
    int commits = 0;
    s.on_delivery = [&](const char* result, bool remote, double seconds) {
        results.push_back(std::string(result) + (remote ? "/remote" : "/local"));
        CHECK(seconds >= 0);
    };
    s.on_commit = [&](bool ok, double) { commits += ok ? 1 : 100; };
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    std::optional<commit_result> a, b;
    submit_one(io, mgr, make_message("alice@example.org", {"far@remote.example"}), a);
    submit_one(io, mgr, make_message("", {"far@remote.example"}), b);
    REQUIRE(run_until(io, [&] { return a && b && mgr.queued() == 0 && maildir_new(t, "example.org", "alice").size() == 1; }));
    run_until(io, [] { return false; }, 1s);
    auto dsn = only_message(t, "example.org", "alice");  // exactly one bounce: none for the <> message
    CHECK(dsn.find("Status: 4.4.7\n") != std::string::npos);
    CHECK(dsn.find("delivery time expired; last error: remote delivery not yet available") != std::string::npos);
    CHECK(mgr.queued() == 0);
    CHECK(files_in(t.path() / "queue/env").empty());
    // Lifetime over: "expired" (not "bounced"), twice; the bounce to alice is "sent";
    // only the two submissions count as commits (the bounce is queued internally).
    CHECK(std::count(results.begin(), results.end(), "expired/local") == 2);
    CHECK(std::count(results.begin(), results.end(), "sent/local") == 1);
    CHECK(results.size() == 3);
    CHECK(commits == 2);
}

TEST_CASE("a maildir write failure defers the recipient and keeps the message; requeue retries at once", "[manager]")
{
    test::temp_dir t;
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    test::faulty_fs ffs;
    auto s = make_settings(t);
    s.fs = &ffs;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    // The commit renames twice (mess/, env/); every rename after that (the maildir
    // publish step) fails.
    ffs.fail(test::op::rename, ffs.calls(test::op::rename) + 3, EIO, true);
    std::optional<commit_result> res;
    submit_one(io, mgr, make_message("alice@example.org", {"bob@example.org"}), res);
    REQUIRE(run_until(io, [&] { return res.has_value(); }));
    REQUIRE(res->ok);
    // The record reaches the file before the delivery's end reaches the manager: wait for
    // both, or the requeue below finds the recipient still in flight and skips it.
    REQUIRE(run_until(io, [&] {
        auto d = decode_env_file(test::slurp(t.path() / "queue/env" / res->queue_id));
        return d.file && d.file->journal.size() == 1 && mgr.idle();
    }));
    auto d = decode_env_file(test::slurp(t.path() / "queue/env" / res->queue_id));
    CHECK(d.file->journal[0].kind == outcome_kind::deferred);
    CHECK(d.file->journal[0].status == "4.2.0");
    CHECK(maildir_new(t, "example.org", "bob").empty());
    CHECK(files_in(t.path() / "mail/example.org/bob/Maildir/tmp").empty());
    CHECK(mgr.queued() == 1);
    ffs.heal();  // the retry is 5 minutes away: only a requeue delivers now

    CHECK(test::requeue_now(io, mgr, "0000000000000000").error == "not in the queue");
    auto rq = test::requeue_now(io, mgr, res->queue_id);
    CHECK(rq.error.empty());
    CHECK(rq.recipients == 1);
    REQUIRE(run_until(io, [&] { return maildir_new(t, "example.org", "bob").size() == 1; }, 10s));
    REQUIRE(run_until(io, [&] { return mgr.queued() == 0; }));
}

TEST_CASE("VERP: each local copy gets its own Return-Path; without VERP the sender stays", "[manager][verp]")
{
    test::temp_dir t;
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    manager mgr(io.get_executor(), make_settings(t), table);
    mgr.start();
    auto m = make_message("owner-list@example.org", {"bob@example.org", "carol@example.org"});
    m.verp_delimiters = "+=";
    std::optional<commit_result> res, plain;
    submit_one(io, mgr, std::move(m), res);
    submit_one(io, mgr, make_message("owner-list@example.org", {"dave@example.org"}), plain);
    REQUIRE(run_until(io, [&] {
        return maildir_new(t, "example.org", "bob").size() == 1 && maildir_new(t, "example.org", "carol").size() == 1 &&
               maildir_new(t, "example.org", "dave").size() == 1;
    }));
    CHECK(only_message(t, "example.org", "bob").rfind("Return-Path: <owner-list+bob=example.org@example.org>\n", 0) == 0);
    CHECK(only_message(t, "example.org", "carol").rfind("Return-Path: <owner-list+carol=example.org@example.org>\n", 0) == 0);
    CHECK(only_message(t, "example.org", "dave").rfind("Return-Path: <owner-list@example.org>\n", 0) == 0);
}

TEST_CASE("VERP: one failure notice per failed recipient, to the return path naming it", "[manager][verp][dsn]")
{
    // owner+anything falls back to the owner's entry (extension addresses).
    mailbox_queue q("owner@example.org example.org/owner/Maildir\n"
                    "alice@example.org example.org/alice/Maildir\n",
                    "+");
    auto m = make_message("owner@example.org", {"alice@example.org", "nobody@example.org", "ghost@example.org"});
    m.verp_delimiters = "+=";
    submit_one(q.io, q.mgr, std::move(m), q.res);
    REQUIRE(run_until(q.io, [&] {
        return q.res && q.mgr.queued() == 0 && maildir_new(q.t, "example.org", "owner").size() == 2 &&
               files_in(q.t.path() / "queue/env").empty();
    }));
    CHECK(maildir_new(q.t, "example.org", "alice").size() == 1);
    std::vector<std::string> dsns;
    for (const auto& f : maildir_new(q.t, "example.org", "owner"))
        dsns.push_back(test::slurp(q.t.path() / "mail/example.org/owner/Maildir/new" / f));
    for (const std::string who : {"nobody", "ghost"}) {
        INFO(who);
        const std::string verp = "owner+" + who + "=example.org@example.org";
        auto it = std::find_if(dsns.begin(), dsns.end(), [&](const std::string& d) {
            return d.find("Delivered-To: " + verp + "\n") != std::string::npos;
        });
        REQUIRE(it != dsns.end());
        CHECK(it->rfind("Return-Path: <>\n", 0) == 0);
        CHECK(it->find("\nTo: <" + verp + ">\n") != std::string::npos);
        CHECK(it->find("Final-Recipient: rfc822; " + who + "@example.org\nAction: failed\nStatus: 5.1.1\n") !=
              std::string::npos);
        // Only its own recipient: the other failure is in the other notice.
        CHECK(it->find("Final-Recipient: rfc822; " + std::string(who == "nobody" ? "ghost" : "nobody")) ==
              std::string::npos);
        CHECK(it->find("Final-Recipient: rfc822; alice@example.org") == std::string::npos);
    }
}

TEST_CASE("VERP: a recipient without a VERP form is reported to the plain sender", "[manager][verp][dsn]")
{
    mailbox_queue q("owner@example.org example.org/owner/Maildir\n");
    auto m = make_message("owner@example.org", {"\"no body\"@example.org"});
    m.verp_delimiters = "+=";
    submit_one(q.io, q.mgr, std::move(m), q.res);
    REQUIRE(run_until(q.io, [&] {
        return q.res && q.mgr.queued() == 0 && maildir_new(q.t, "example.org", "owner").size() == 1;
    }));
    auto dsn = only_message(q.t, "example.org", "owner");
    CHECK(dsn.find("Delivered-To: owner@example.org\n") != std::string::npos);
    CHECK(dsn.find("Final-Recipient: rfc822; \"no body\"@example.org") != std::string::npos);
}

TEST_CASE("content_skip: the queue file is trace + content after the skipped octets", "[manager]")
{
    test::temp_dir t;
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    manager mgr(io.get_executor(), make_settings(t), table);
    mgr.start();
    auto m = make_message("alice@example.org", {"bob@example.org"});
    m.trace = "Received: by us\r\nFrom: new@example.org\r\n";
    m.content = "From: old@host.example.org\r\n\r\nbody\r\n";
    m.content_skip = std::string_view("From: old@host.example.org\r\n").size();
    std::optional<commit_result> res;
    submit_one(io, mgr, std::move(m), res);
    REQUIRE(run_until(io, [&] { return res && maildir_new(t, "example.org", "bob").size() == 1; }));
    auto got = only_message(t, "example.org", "bob");
    CHECK(got.find("Received: by us\nFrom: new@example.org\n\nbody\n") != std::string::npos);
    CHECK(got.find("old@") == std::string::npos);
}

namespace {

// burst_child - in a forked child: submit forever from 8 coroutines, report each
//               acknowledged queue id on fd (one line each), until killed.
[[noreturn]] void burst_child(const test::temp_dir& t, int fd)
{
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    manager mgr(io.get_executor(), make_settings(t), table);
    mgr.start();
    auto loop = [&mgr, fd]() -> boost::asio::awaitable<void> {
        for (;;) {
            std::string id = mgr.allocate_id();
            std::vector<std::string> rcpts{"bob@example.org"};  // g++ 12: no braced list inside co_await
            new_message m = make_message("alice@example.org", rcpts, "token " + id + "\r\n");
            auto r = co_await mgr.submit(id, std::move(m));
            if (!r.ok) continue;
            std::string line = id + "\n";
            if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(3);
        }
    };
    for (int i = 0; i < 8; ++i)
        boost::asio::co_spawn(io, loop, [](std::exception_ptr) { ::_exit(4); });
    io.run_for(10s);  // the parent kills us long before this
    ::_exit(5);
}

}  // namespace

TEST_CASE("kill -9 during a burst loses no acknowledged message", "[manager][crash]")
{
    test::temp_dir t;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        burst_child(t, fds[1]);
    }
    ::close(fds[1]);
    // Read acknowledgements until 200 arrived (or 5 s passed), then kill -9 mid-burst.
    std::string acked_text;
    auto end = std::chrono::steady_clock::now() + 5s;
    while (std::count(acked_text.begin(), acked_text.end(), '\n') < 200 && std::chrono::steady_clock::now() < end) {
        char buf[4096];
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        acked_text.append(buf, static_cast<std::size_t>(n));
    }
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    ::close(fds[0]);
    std::vector<std::string> acked;
    for (std::size_t p = 0, nl; (nl = acked_text.find('\n', p)) != std::string::npos; p = nl + 1)
        acked.push_back(acked_text.substr(p, nl - p));
    REQUIRE(acked.size() >= 50);

    // Restart on the same directories: every acknowledged message ends up in bob's maildir.
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    manager mgr(io.get_executor(), make_settings(t), table);
    mgr.start();
    // (queued() is 0 before the recovered index is installed, so also wait for env/ to empty.)
    REQUIRE(run_until(io, [&] { return mgr.queued() == 0 && files_in(t.path() / "queue/env").empty(); }, 60s));
    CHECK(files_in(t.path() / "queue/corrupt").size() <= 2 * 8);  // only never-acknowledged commits can be torn
    std::string all;
    for (const auto& f : maildir_new(t, "example.org", "bob"))
        all += test::slurp(t.path() / "mail/example.org/bob/Maildir/new" / f);
    std::size_t missing = 0;
    for (const auto& id : acked)
        if (all.find("token " + id + "\n") == std::string::npos) ++missing;
    INFO(acked.size() << " acknowledged before the kill");
    CHECK(missing == 0);
}

TEST_CASE("NOTIFY=SUCCESS: one success report to the sender, naming only the recipients that asked", "[manager][dsn]")
{
    test::temp_dir t;
    boost::asio::io_context io;
    auto table = local::mailbox_table::defaults({"example.org"});
    manager mgr(io.get_executor(), make_settings(t), table);
    mgr.start();
    auto m = make_message("alice@example.org", {"bob@example.org", "carol@example.org"});
    m.recipients[0].notify = notify_success | notify_failure;
    m.recipients[0].orcpt = "rfc822;Bob@Example.org";
    auto from_null = make_message("", {"dave@example.org"});
    from_null.recipients[0].notify = notify_success;  // never a report to <>
    std::optional<commit_result> a, b;
    submit_one(io, mgr, std::move(m), a);
    submit_one(io, mgr, std::move(from_null), b);
    REQUIRE(run_until(io, [&] { return a && b && mgr.queued() == 0 && maildir_new(t, "example.org", "alice").size() == 1; }));
    run_until(io, [] { return false; }, 1s);
    CHECK(maildir_new(t, "example.org", "bob").size() == 1);
    CHECK(maildir_new(t, "example.org", "dave").size() == 1);
    auto dsn = only_message(t, "example.org", "alice");  // exactly one report
    CHECK(dsn.find("Return-Path: <>\n") == 0);
    CHECK(dsn.find("Subject: Successful Mail Delivery Report\n") != std::string::npos);
    CHECK(dsn.find("Original-Recipient: rfc822;Bob@Example.org\nFinal-Recipient: rfc822; bob@example.org\n"
                   "Action: delivered\nStatus: 2.0.0\n") != std::string::npos);
    CHECK(dsn.find("carol@example.org") == std::string::npos);
    CHECK(mgr.queued() == 0);
}

TEST_CASE("NOTIFY=DELAY: one delay report per recipient after delay_warning, also across a restart", "[manager][dsn]")
{
    test::temp_dir t;
    auto table = local::mailbox_table::defaults({"example.org"});
    auto s = make_settings(t);
    s.backoff_first = 1s;
    s.backoff_cap = 1s;
    s.delay_warning = 2s;
    auto delay_reports = [&] {
        std::size_t n = 0;
        for (const auto& f : maildir_new(t, "example.org", "alice"))
            if (test::slurp(t.path() / "mail/example.org/alice/Maildir/new" / f).find("Action: delayed\n") != std::string::npos) ++n;
        return n;
    };
    {
        boost::asio::io_context io;
        manager mgr(io.get_executor(), s, table);
        mgr.start();
        auto m = make_message("alice@example.org", {"far@remote.example", "failonly@remote.example", "never@remote.example"});
        m.recipients[0].notify = notify_delay | notify_failure;
        m.recipients[1].notify = notify_failure;  // explicit NOTIFY without DELAY: no delay report
        m.recipients[2].notify = notify_never;
        auto from_null = make_message("", {"x@remote.example"});  // never a report to <>
        std::optional<commit_result> a, b;
        submit_one(io, mgr, std::move(m), a);
        submit_one(io, mgr, std::move(from_null), b);
        REQUIRE(run_until(io, [&] { return a && b && delay_reports() == 1; }));
        run_until(io, [] { return false; }, 3s);  // several more deferrals: still one report
        CHECK(delay_reports() == 1);
        CHECK(maildir_new(t, "example.org", "alice").size() == 1);
        auto dsn = only_message(t, "example.org", "alice");
        CHECK(dsn.find("Subject: Delayed Mail (still being retried)\n") != std::string::npos);
        CHECK(dsn.find("Final-Recipient: rfc822; far@remote.example\nAction: delayed\nStatus: 4.4.1\n") != std::string::npos);
        CHECK(dsn.find("Will-Retry-Until: ") != std::string::npos);
        CHECK(dsn.find("failonly@") == std::string::npos);
        CHECK(dsn.find("never@") == std::string::npos);
        CHECK(mgr.queued() == 2);
    }
    // Second life: the journal shows the warning was due and sent; no second report.
    boost::asio::io_context io;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    run_until(io, [] { return false; }, 3s);
    CHECK(delay_reports() == 1);
    CHECK(mgr.queued() == 2);
}

TEST_CASE("delay_warning 0 disables delay reports", "[manager][dsn]")
{
    test::temp_dir t;
    auto table = local::mailbox_table::defaults({"example.org"});
    auto s = make_settings(t);
    s.backoff_first = 1s;
    s.backoff_cap = 1s;
    s.delay_warning = 0s;
    boost::asio::io_context io;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    auto m = make_message("alice@example.org", {"far@remote.example"});
    m.recipients[0].notify = notify_delay;
    std::optional<commit_result> a;
    submit_one(io, mgr, std::move(m), a);
    run_until(io, [] { return false; }, 3s);
    REQUIRE(a);
    CHECK(maildir_new(t, "example.org", "alice").empty());
}

TEST_CASE("an undeliverable bounce goes to double_bounce_recipient; a failed double bounce is only logged", "[manager][dsn]")
{
    test::temp_dir t;
    // alice and postmaster exist; ghost does not.
    auto parsed = local::parse_mailbox_table("alice@example.org example.org/alice/Maildir\n"
                                             "postmaster@example.org example.org/postmaster/Maildir\n");
    REQUIRE(parsed.errors.empty());
    auto s = make_settings(t);
    SECTION("to the configured recipient, with the whole bounce attached")
    {
        s.double_bounce_recipient = "postmaster@example.org";
        boost::asio::io_context io;
        manager mgr(io.get_executor(), s, parsed.table);
        mgr.start();
        std::optional<commit_result> a;
        // ghost sends to nobody: nobody fails, the bounce to ghost fails: a double bounce.
        submit_one(io, mgr, make_message("ghost@example.org", {"nobody@example.org"}), a);
        REQUIRE(run_until(io, [&] { return a && mgr.queued() == 0 && maildir_new(t, "example.org", "postmaster").size() == 1; }));
        run_until(io, [] { return false; }, 1s);
        auto dsn = only_message(t, "example.org", "postmaster");
        CHECK(dsn.find("Return-Path: <>\n") == 0);
        CHECK(dsn.find("To: <postmaster@example.org>\n") != std::string::npos);
        CHECK(dsn.find("Subject: Postmaster Copy: Undelivered Mail\n") != std::string::npos);
        CHECK(dsn.find("Final-Recipient: rfc822; ghost@example.org\nAction: failed\nStatus: 5.1.1\n") != std::string::npos);
        // The failed bounce itself is attached in full (it names the original recipient).
        CHECK(dsn.find("Content-Type: message/rfc822\n\n") != std::string::npos);
        CHECK(dsn.find("Final-Recipient: rfc822; nobody@example.org") != std::string::npos);
        CHECK(mgr.queued() == 0);
        CHECK(files_in(t.path() / "queue/env").empty());
    }
    SECTION("a double bounce that fails too: logged and dropped, no loop")
    {
        s.double_bounce_recipient = "nosuchadmin@example.org";
        boost::asio::io_context io;
        manager mgr(io.get_executor(), s, parsed.table);
        mgr.start();
        std::optional<commit_result> a;
        submit_one(io, mgr, make_message("ghost@example.org", {"nobody@example.org"}), a);
        REQUIRE(run_until(io, [&] { return a && mgr.queued() == 0 && mgr.idle(); }));
        run_until(io, [] { return false; }, 1s);
        CHECK(mgr.queued() == 0);
        CHECK(files_in(t.path() / "queue/env").empty());
        CHECK(maildir_new(t, "example.org", "postmaster").empty());
        CHECK(maildir_new(t, "example.org", "alice").empty());
    }
}
