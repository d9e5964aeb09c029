// I/O faults through local delivery and its journal record (issue 10): every call of
// every syscall of the seam fails once, in turn, with EIO and with ENOSPC.
#include "support/catch.hpp"

#include "local/maildir.hpp"
#include "local/mailbox_table.hpp"
#include "queue/manager.hpp"
#include "support/faulty_fs.hpp"
#include "support/temp_dir.hpp"

#include "manager_driver.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

using namespace postrider;
using namespace postrider::queue;
using namespace std::chrono_literals;
using test::files_in;

namespace {

const std::string bob_copy = "Return-Path: <alice@example.org>\nDelivered-To: bob@example.org\n"
                             "Received: from client (127.0.0.1)\nSubject: test\n\nhello\n";

// park - first life: commit one message from alice with deliveries stopped; its id.
std::string park(const settings& s, const local::mailbox_table& table,
                 std::vector<std::string> rcpts = {"bob@example.org"})
{
    boost::asio::io_context io;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    mgr.stop();
    std::optional<commit_result> res;
    test::submit_one(io, mgr, test::make_message("alice@example.org", std::move(rcpts)), res);
    REQUIRE(test::run_until(io, [&] { return res.has_value(); }));
    REQUIRE(res->ok);
    return res->queue_id;
}

// env_journal - the outcomes recorded in env/ID (empty when the file is gone or unreadable).
std::vector<outcome> env_journal(const test::temp_dir& t, const std::string& id)
{
    auto p = t.path() / "queue/env" / id;
    if (!std::filesystem::exists(p)) return {};
    auto d = decode_env_file(test::slurp(p));
    return d.file ? d.file->journal : std::vector<outcome>{};
}

std::filesystem::path bob_dir(const test::temp_dir& t) { return t.path() / "mail/example.org/bob/Maildir"; }

const char* op_name(test::op o)
{
    static constexpr const char* names[] = {"open", "write", "read", "fsync", "syncfs", "rename", "unlink", "mkdir", "close", "pwrite", "pread", "fdatasync"};
    return names[static_cast<int>(o)];
}

struct fault_run {
    bool fired = false;  // the n-th call happened (and failed)
};

// deliver_with_fault - second life: the n-th call of o after start() fails with err;
//                      check the state the attempt left, then heal and deliver.
fault_run deliver_with_fault(flush_mode mode, test::op o, int err, int n)
{
    auto table = local::mailbox_table::defaults({"example.org"});
    test::temp_dir t;
    auto s = test::make_settings(t);
    s.flush = mode;
    const std::string id = park(s, table);

    test::faulty_fs ffs;
    s.fs = &ffs;
    boost::asio::io_context io;
    manager mgr(io.get_executor(), s, table);
    mgr.start();  // recovery reads run here, before the fault is armed
    const int base = ffs.calls(o);
    ffs.fail(o, base + n, err);
    // The attempt is over when an outcome is on disk or the message is gone, and nothing is in flight.
    REQUIRE(test::run_until(io, [&] {
        return mgr.idle() && (!env_journal(t, id).empty() || !std::filesystem::exists(t.path() / "queue/env" / id));
    }));
    fault_run r;
    r.fired = ffs.calls(o) >= base + n;

    auto files = files_in(bob_dir(t) / "new");
    CHECK(files.size() <= 1);
    for (const auto& f : files) CHECK(test::slurp(bob_dir(t) / "new" / f) == bob_copy);  // never a torn copy
    CHECK(files_in(t.path() / "mail/example.org/alice/Maildir/new").empty());            // never a bounce
    for (const auto& rec : env_journal(t, id)) CHECK(rec.kind != outcome_kind::failed);
    if (!r.fired) {
        CHECK(mgr.queued() == 0);
        CHECK(files.size() == 1);
        return r;
    }
    if (mgr.queued() == 1) {
        // The fault hit the delivery: deferred with a 4.x status, and no copy is visible.
        auto j = env_journal(t, id);
        REQUIRE_FALSE(j.empty());
        CHECK(j.back().kind == outcome_kind::deferred);
        CHECK(j.back().status.substr(0, 2) == "4.");
        CHECK(files.empty());
    }
    // Otherwise the fault hit the journal record or the removal after a good delivery:
    // the delivery stands (one copy, checked above) and is not repeated below.

    ffs.heal();
    test::flush_and_drain(io, mgr);
    files = files_in(bob_dir(t) / "new");
    REQUIRE(files.size() == 1);  // exactly once
    CHECK(test::slurp(bob_dir(t) / "new" / files[0]) == bob_copy);
    CHECK(files_in(bob_dir(t) / "tmp").empty());
    CHECK(files_in(t.path() / "mail/example.org/alice/Maildir/new").empty());
    return r;
}

}  // namespace

TEST_CASE("an I/O fault at any call of a local delivery or its journal record defers it; once healed, "
          "it is delivered exactly once", "[manager][fault]")
{
    int fired = 0;
    std::string summary;  // per mode and op: how many calls a delivery makes (each failed once, per errno)
    for (auto mode : {flush_mode::group, flush_mode::per_file}) {
        for (auto o : {test::op::open, test::op::write, test::op::read, test::op::fsync, test::op::syncfs,
                       test::op::rename, test::op::unlink, test::op::mkdir, test::op::close}) {
            for (int err : {EIO, ENOSPC}) {
                // Fail the 1st, 2nd, ... call until the delivery gets through without reaching the n-th.
                int n = 1;
                for (;; ++n) {
                    INFO((mode == flush_mode::group ? "group" : "per_file") << " " << op_name(o) << " call " << n
                                                                            << " errno " << err);
                    REQUIRE(n < 60);
                    if (!deliver_with_fault(mode, o, err, n).fired) break;
                    ++fired;
                }
                if (err == EIO)
                    summary += std::string(mode == flush_mode::group ? "group " : "per_file ") + op_name(o) + "=" +
                               std::to_string(n - 1) + " ";
            }
        }
    }
    WARN("faults injected: " << fired << " (calls per delivery: " << summary << ")");
    // open, write, read and close are reached in both modes; syncfs only in group, fsync only in per_file.
    CHECK(fired >= 30);
}

TEST_CASE("a recovered recipient whose copy is already in the maildir is recorded, not written again",
          "[manager][fault]")
{
    auto table = local::mailbox_table::defaults({"example.org"});
    test::temp_dir t;
    auto s = test::make_settings(t);
    const std::string id = park(s, table, {"bob@example.org", "carol@example.org"});
    // A crash after bob's copy was renamed into new/ (and read: cur/) but before the journal record.
    auto cur = bob_dir(t) / "cur";
    std::filesystem::create_directories(cur);
    const std::string earlier = local::unique_name(1, 7, local::delivery_tag(id, 0), "mx.example.org") + ":2,S";
    test::spit(cur / earlier, "the earlier copy\n");

    boost::asio::io_context io;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    REQUIRE(test::run_until(io, [&] { return mgr.idle() && !std::filesystem::exists(t.path() / "queue/env" / id); }));
    CHECK(files_in(bob_dir(t) / "new").empty());
    CHECK(files_in(cur) == std::vector<std::string>{earlier});
    CHECK(test::maildir_new(t, "example.org", "carol").size() == 1);  // recipient 1 had no copy: written
}

TEST_CASE("a published copy whose flush failed and whose undo failed too is found by the retry, not doubled",
          "[manager][fault]")
{
    auto table = local::mailbox_table::defaults({"example.org"});
    test::temp_dir t;
    auto s = test::make_settings(t);  // group flush: syncfs after the commit, the write and the rename
    test::faulty_fs ffs;
    s.fs = &ffs;
    boost::asio::io_context io;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    // A fresh message (not recovered at start): the third flush, the one after the rename into
    // new/, fails, and so does every unlink of the undo. A complete copy stays in new/ while
    // the attempt is recorded as deferred.
    ffs.fail(test::op::syncfs, ffs.calls(test::op::syncfs) + 3, EIO);
    ffs.fail(test::op::unlink, ffs.calls(test::op::unlink) + 1, EIO, true);
    std::optional<commit_result> res;
    test::submit_one(io, mgr, test::make_message("alice@example.org", {"bob@example.org"}), res);
    REQUIRE(test::run_until(io, [&] { return res && mgr.idle() && !env_journal(t, res->queue_id).empty(); }));
    REQUIRE(res->ok);
    REQUIRE(env_journal(t, res->queue_id).back().kind == outcome_kind::deferred);
    REQUIRE(files_in(bob_dir(t) / "new").size() == 1);

    ffs.heal();
    SECTION("retried by a queue flush") { test::flush_and_drain(io, mgr); }
    SECTION("retried by a requeue, which resets the attempt count")
    {
        CHECK(test::requeue_now(io, mgr, "").recipients == 1);
        REQUIRE(test::run_until(io, [&] { return mgr.queued() == 0 && mgr.idle(); }));
    }
    auto files = files_in(bob_dir(t) / "new");
    REQUIRE(files.size() == 1);
    CHECK(test::slurp(bob_dir(t) / "new" / files[0]) == bob_copy);
}

TEST_CASE("a retry after a failure that left no copy writes without listing the maildir", "[manager][fault]")
{
    auto table = local::mailbox_table::defaults({"example.org"});
    test::temp_dir t;
    auto s = test::make_settings(t);
    const std::string id = park(s, table);
    test::faulty_fs ffs;
    s.fs = &ffs;
    boost::asio::io_context io;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    // Recovered, so the first attempt lists the maildir (nothing there); its rename into new/
    // fails and the undo removes the tmp/ file: nothing is left.
    ffs.fail(test::op::rename, ffs.calls(test::op::rename) + 1, EIO);
    REQUIRE(test::run_until(io, [&] { return mgr.idle() && !env_journal(t, id).empty(); }));
    REQUIRE(env_journal(t, id).back().kind == outcome_kind::deferred);
    REQUIRE(files_in(bob_dir(t) / "new").empty());
    // A decoy with the delivery's tag: only a listing of cur/ could see it.
    const std::string decoy = local::unique_name(1, 7, local::delivery_tag(id, 0), "mx.example.org") + ":2,S";
    test::spit(bob_dir(t) / "cur" / decoy, "not an earlier copy\n");

    ffs.heal();
    test::flush_and_drain(io, mgr);
    auto files = files_in(bob_dir(t) / "new");
    REQUIRE(files.size() == 1);  // written: the retry did not list the maildir
    CHECK(test::slurp(bob_dir(t) / "new" / files[0]) == bob_copy);
}

TEST_CASE("per_file: a recognised copy is fsynced (file and directory) before it is recorded delivered",
          "[manager][fault]")
{
    auto table = local::mailbox_table::defaults({"example.org"});
    test::temp_dir t;
    auto s = test::make_settings(t);
    s.flush = flush_mode::per_file;
    const std::string id = park(s, table);
    // A crash after the rename into new/, before the fsync of new/ and the journal record.
    auto dir = bob_dir(t) / "new";
    std::filesystem::create_directories(dir);
    test::spit(dir / local::unique_name(1, 7, local::delivery_tag(id, 0), "mx.example.org"), bob_copy);

    test::faulty_fs ffs;
    s.fs = &ffs;
    boost::asio::io_context io;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    // The first fsync after start is the found copy's: when it fails, nothing is recorded delivered.
    ffs.fail(test::op::fsync, ffs.calls(test::op::fsync) + 1, EIO);
    REQUIRE(test::run_until(io, [&] {
        return mgr.idle() && (!env_journal(t, id).empty() || !std::filesystem::exists(t.path() / "queue/env" / id));
    }));
    REQUIRE_FALSE(env_journal(t, id).empty());
    CHECK(env_journal(t, id).back().kind == outcome_kind::deferred);
    CHECK(mgr.queued() == 1);

    ffs.heal();
    test::flush_and_drain(io, mgr);
    CHECK(files_in(dir).size() == 1);
}
