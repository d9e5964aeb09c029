// The write-ahead journal through store and manager: commit, delivery from the segment,
// done and retirement, migration of deferred messages, and recovery into classic files.
#include "support/catch.hpp"

#include "local/mailbox_table.hpp"
#include "queue/manager.hpp"
#include "queue/queue_id.hpp"
#include "queue/segment.hpp"
#include "queue/store.hpp"
#include "envelopes.hpp"
#include "support/faulty_fs.hpp"
#include "support/temp_dir.hpp"

#include "manager_driver.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>
#include <optional>

using namespace postrider;
using namespace postrider::queue;
using test::files_in;

namespace {

envelope to_bob_and_carol(const std::string& id)
{
    return test::make_envelope(id, {"bob@example.org", "carol@example.org"});
}

// one_per_segment - every record past the first starts a new segment (rotation is exercised).
journal_options one_per_segment()
{
    journal_options o;
    o.rotate_bytes = 1;
    return o;
}

// journal_store - a store with the journal on, recovered (as manager::start does).
std::unique_ptr<store> journal_store(const std::filesystem::path& dir, journal_options o = {},
                                     flush_mode mode = flush_mode::group)
{
    auto s = std::make_unique<store>(local::posix(), dir, mode);
    s->create_dirs();
    s->use_journal(o);
    s->recover();
    return s;
}

outcome delivered(std::uint32_t r) { return {r, outcome_kind::delivered, 1700000000100000, 0, 1, "2.0.0", "ok"}; }
outcome deferred(std::uint32_t r) { return {r, outcome_kind::deferred, 1700000000100000, 1700000300100000, 1, "4.2.0", "later"}; }

void drain(boost::asio::io_context& io, manager& mgr)
{
    REQUIRE(test::run_until(io, [&] { return mgr.queued() == 0 && mgr.idle(); }));
}

// journal_settings - manager settings under t with the journal on.
settings journal_settings(const test::temp_dir& t, journal_options o = {})
{
    auto s = test::make_settings(t);
    s.journal = true;
    s.journal_opts = o;
    return s;
}

// queue_is_empty - no queue file of any kind is left.
bool queue_is_empty(const test::temp_dir& t)
{
    for (const char* sub : {"env", "mess", "tmp", "journal"})
        if (!files_in(t.path() / "queue" / sub).empty()) return false;
    return true;
}

// commit_one - submit a message from alice and run until its commit answered.
commit_result commit_one(boost::asio::io_context& io, manager& mgr, std::vector<std::string> rcpts)
{
    std::optional<commit_result> res;
    test::submit_one(io, mgr, test::make_message("alice@example.org", std::move(rcpts)), res);
    REQUIRE(test::run_until(io, [&] { return res.has_value(); }));
    return *res;
}

const std::string bob_copy = "Return-Path: <alice@example.org>\nDelivered-To: bob@example.org\n"
                             "Received: from client (127.0.0.1)\nSubject: test\n\nhello\n";

// journal_queue - a started manager on the journal (one record per segment), default mailboxes.
struct journal_queue {
    journal_queue() { mgr.start(); }
    local::mailbox_table table = local::mailbox_table::defaults({"example.org"});
    test::temp_dir t;
    boost::asio::io_context io;
    manager mgr{io.get_executor(), journal_settings(t, one_per_segment()), table};
};

}  // namespace

TEST_CASE("journal: a commit writes no per-message file; reads, outcomes and done retire the segment",
          "[journal]")
{
    test::temp_dir t;
    for (auto mode : {flush_mode::group, flush_mode::per_file}) {
        auto dir = t.path() / (mode == flush_mode::group ? "g" : "p");
        auto st = journal_store(dir, one_per_segment(), mode);
        queue_id_generator ids;
        const std::string a = ids.next(), b = ids.next();
        envelope ea = to_bob_and_carol(a), eb = to_bob_and_carol(b);
        REQUIRE_FALSE(st->commit(a, "Received: x\r\n", "Subject: a\r\n\r\nhi\r\n", ea));
        REQUIRE_FALSE(st->commit(b, "", "Subject: b\r\n\r\n", eb));
        CHECK(ea.message_size == 31);
        CHECK(ea.message_crc == crc32("Received: x\r\nSubject: a\r\n\r\nhi\r\n"));
        CHECK(files_in(dir / "mess").empty());
        CHECK(files_in(dir / "env").empty());
        CHECK(files_in(dir / "tmp").empty());
        CHECK(files_in(dir / "journal").size() == 2);
        CHECK(st->in_journal(a));
        std::string got;
        REQUIRE_FALSE(st->read_message(a, got));
        CHECK(got == "Received: x\r\nSubject: a\r\n\r\nhi\r\n");
        REQUIRE_FALSE(st->read_message(b, got));
        CHECK(got == "Subject: b\r\n\r\n");
        REQUIRE_FALSE(st->append(a, delivered(0)));
        REQUIRE_FALSE(st->append(a, delivered(1)));
        REQUIRE_FALSE(st->append(b, delivered(0)));
        REQUIRE_FALSE(st->append(b, delivered(1)));
        // b is done, but a (older) is not: segments retire oldest first, so a's outcomes stay.
        REQUIRE_FALSE(st->remove(b));
        CHECK_FALSE(st->in_journal(b));
        CHECK(st->journal_segments() >= 2);
        CHECK(files_in(dir / "journal").size() >= 2);
        REQUIRE_FALSE(st->remove(a));
        CHECK(st->journal_segments() == 0);
        CHECK(files_in(dir / "journal").empty());
        CHECK(files_in(dir / "env").empty());
    }
}

TEST_CASE("journal: a deferral migrates the message to classic files; settle releases its segment",
          "[journal]")
{
    test::temp_dir t;
    auto st = journal_store(t.path() / "q", one_per_segment());
    queue_id_generator ids;
    const std::string id = ids.next();
    envelope e = to_bob_and_carol(id);
    REQUIRE_FALSE(st->commit(id, "Received: x\r\n", "Subject: a\r\n\r\nhi\r\n", e));
    REQUIRE_FALSE(st->append(id, delivered(0)));
    REQUIRE_FALSE(st->append(id, deferred(1)));
    // Written, not yet known durable: the journal still holds it.
    CHECK(st->in_journal(id));
    CHECK(files_in(t.path() / "q/env") == std::vector<std::string>{id});
    auto d = decode_env_file(test::slurp(t.path() / "q/env" / id));
    REQUIRE(d.file);
    CHECK(d.file->env == e);
    REQUIRE(d.file->journal.size() == 2);  // the history came along
    CHECK(d.file->journal[0] == delivered(0));
    CHECK(d.file->journal[1] == deferred(1));
    CHECK(test::slurp(t.path() / "q/mess" / id) == "Received: x\r\nSubject: a\r\n\r\nhi\r\n");
    REQUIRE_FALSE(st->settle(id));
    CHECK_FALSE(st->in_journal(id));
    CHECK(st->journal_segments() == 0);
    // From now on it is a classic message.
    std::string got;
    REQUIRE_FALSE(st->read_message(id, got));
    CHECK(got == "Received: x\r\nSubject: a\r\n\r\nhi\r\n");
    REQUIRE_FALSE(st->append(id, delivered(1)));
    CHECK(decode_env_file(test::slurp(t.path() / "q/env" / id)).file->journal.size() == 3);
    REQUIRE_FALSE(st->remove(id));
    CHECK(files_in(t.path() / "q/env").empty());
    CHECK(files_in(t.path() / "q/mess").empty());
}

TEST_CASE("journal: a migration whose flush failed is undone; the message stays in the journal", "[journal]")
{
    test::temp_dir t;
    auto st = journal_store(t.path() / "q");
    queue_id_generator ids;
    const std::string id = ids.next();
    envelope e = to_bob_and_carol(id);
    REQUIRE_FALSE(st->commit(id, "", "Subject: a\r\n\r\n", e));
    REQUIRE_FALSE(st->append(id, deferred(0)));
    st->undo_append(id);
    CHECK(files_in(t.path() / "q/env").empty());
    CHECK(files_in(t.path() / "q/mess").empty());
    CHECK(st->in_journal(id));
    REQUIRE_FALSE(st->append(id, deferred(0)));  // tried again at the next outcome
    REQUIRE_FALSE(st->settle(id));
    CHECK(files_in(t.path() / "q/env") == std::vector<std::string>{id});
}

TEST_CASE("journal: recovery materialises live messages as classic files and unlinks the segments",
          "[journal]")
{
    test::temp_dir t;
    auto dir = t.path() / "q";
    queue_id_generator ids;
    const std::string a = ids.next(), b = ids.next(), c = ids.next();
    {
        auto st = journal_store(dir, one_per_segment());
        envelope ea = to_bob_and_carol(a), eb = to_bob_and_carol(b), ec = to_bob_and_carol(c);
        REQUIRE_FALSE(st->commit(a, "Received: a\r\n", "Subject: a\r\n\r\n", ea));
        REQUIRE_FALSE(st->commit(b, "", "Subject: b\r\n\r\n", eb));
        REQUIRE_FALSE(st->commit(c, "", "Subject: c\r\n\r\n", ec));
        REQUIRE_FALSE(st->append(a, delivered(0)));
        REQUIRE_FALSE(st->append(b, delivered(0)));
        REQUIRE_FALSE(st->append(b, delivered(1)));
        REQUIRE_FALSE(st->remove(b));
        // "crash": the store goes away with a and c live
    }
    // A torn, never-acknowledged append at the end of the newest segment.
    auto segs = files_in(dir / "journal");
    REQUIRE(segs.size() >= 3);
    {
        std::ofstream f(dir / "journal" / segs.back(), std::ios::app | std::ios::binary);
        f << std::string("\x04\x10\x00\x00\x00partial", 12);
    }
    store st(local::posix(), dir, flush_mode::group);
    auto r = st.recover();
    CHECK(r.journal_materialised == 2);
    CHECK(r.journal_segments == segs.size());
    CHECK(files_in(dir / "journal").empty());
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[0].env.queue_id == a);
    CHECK(r.messages[0].journal == std::vector<outcome>{delivered(0)});
    CHECK(r.messages[1].env.queue_id == c);
    CHECK(r.messages[1].journal.empty());
    CHECK(test::slurp(dir / "mess" / a) == "Received: a\r\nSubject: a\r\n\r\n");
    CHECK(r.quarantined == 0);
}

TEST_CASE("journal: a segment damaged mid-way is quarantined after its valid records are used", "[journal]")
{
    test::temp_dir t;
    auto dir = t.path() / "q";
    queue_id_generator ids;
    const std::string a = ids.next(), b = ids.next();
    {
        journal_options o;  // both in one segment
        auto st = journal_store(dir, o);
        envelope ea = to_bob_and_carol(a), eb = to_bob_and_carol(b);
        REQUIRE_FALSE(st->commit(a, "", "Subject: a\r\n\r\n", ea));
        REQUIRE_FALSE(st->commit(b, "", "Subject: b\r\n\r\n", eb));
    }
    auto segs = files_in(dir / "journal");
    REQUIRE(segs.size() == 1);
    auto path = dir / "journal" / segs[0];
    std::string bytes = test::slurp(path);
    auto scan = scan_segment(bytes, false);
    REQUIRE(scan.entries.size() == 2);
    bytes[scan.entries[1].offset + 30] ^= 0x20;       // damage b's record ...
    bytes += encode_done("0123456789ABCDEF");          // ... with a record after it
    test::spit(path, bytes);
    test::spit(dir / "journal" / "00000000000000ff", "");  // a newer (empty) segment: the damaged one is not last
    // The queue tools' read-only look sees what recovery will keep and moves nothing.
    auto seen = journal::peek(local::posix(), dir / "journal");
    REQUIRE(seen.live.size() == 1);
    CHECK(seen.live.begin()->first == a);
    CHECK(seen.live.begin()->second.content == "Subject: a\r\n\r\n");
    CHECK(files_in(dir / "journal").size() == 2);
    CHECK(files_in(dir / "corrupt").empty());
    store st(local::posix(), dir, flush_mode::group);
    auto r = st.recover();
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0].env.queue_id == a);
    CHECK(files_in(dir / "corrupt") == std::vector<std::string>{"journal-" + segs[0]});
    CHECK(files_in(dir / "journal").empty());
}

TEST_CASE("journal: manager delivers from the segment, retires it, and keeps no files", "[journal][manager]")
{
    journal_queue q;
    const commit_result res = commit_one(q.io, q.mgr, {"bob@example.org"});
    REQUIRE(res.ok);
    drain(q.io, q.mgr);
    CHECK(test::only_message(q.t, "example.org", "bob") == bob_copy);
    CHECK(queue_is_empty(q.t));
}

TEST_CASE("journal: a deferred message moves to classic files and is delivered from them later",
          "[journal][manager]")
{
    journal_queue q;
    // bob's maildir cannot be made: the first attempt is deferred (4.2.0).
    std::filesystem::create_directories(q.t.path() / "mail/example.org");
    test::spit(q.t.path() / "mail/example.org/bob", "in the way");
    const commit_result res = commit_one(q.io, q.mgr, {"bob@example.org"});
    REQUIRE(res.ok);
    const std::string id = res.queue_id;
    REQUIRE(test::run_until(q.io, [&] {
        return q.mgr.idle() && files_in(q.t.path() / "queue/env").size() == 1 &&
               files_in(q.t.path() / "queue/journal").empty();
    }));
    auto d = decode_env_file(test::slurp(q.t.path() / "queue/env" / id));
    REQUIRE(d.file);
    REQUIRE(d.file->journal.size() == 1);
    CHECK(d.file->journal[0].kind == outcome_kind::deferred);
    std::filesystem::remove(q.t.path() / "mail/example.org/bob");
    test::flush_and_drain(q.io, q.mgr);
    CHECK(test::only_message(q.t, "example.org", "bob") == bob_copy);
    CHECK(queue_is_empty(q.t));
}

TEST_CASE("journal: messages committed before a clean stop become classic files and are delivered next life",
          "[journal][manager]")
{
    auto table = local::mailbox_table::defaults({"example.org"});
    test::temp_dir t;
    auto s = journal_settings(t);
    std::string id;
    {
        boost::asio::io_context io;
        manager mgr(io.get_executor(), s, table);
        mgr.start();
        mgr.stop();  // nothing is delivered in this life
        const commit_result res = commit_one(io, mgr, {"bob@example.org", "carol@example.org"});
        REQUIRE(res.ok);
        id = res.queue_id;
        CHECK(files_in(t.path() / "queue/journal").size() == 1);
        CHECK(files_in(t.path() / "queue/env").empty());
    }
    // A clean stop wrote it out as classic files, for the queue tools (a crash leaves the
    // segment to the next start: see the store tests above and the crash harness).
    CHECK(files_in(t.path() / "queue/journal").empty());
    CHECK(files_in(t.path() / "queue/env") == std::vector<std::string>{id});
    // The second life may run without the journal.
    boost::asio::io_context io;
    manager mgr(io.get_executor(), s, table);
    mgr.start();
    CHECK(files_in(t.path() / "queue/journal").empty());
    REQUIRE(test::run_until(io, [&] {
        return mgr.idle() && mgr.queued() == 0 && test::maildir_new(t, "example.org", "carol").size() == 1;
    }));
    CHECK(test::maildir_new(t, "example.org", "bob").size() == 1);
    CHECK(test::maildir_new(t, "example.org", "carol").size() == 1);
    CHECK(files_in(t.path() / "queue/env").empty());
}

TEST_CASE("journal: an I/O fault at any journal call fails the commit cleanly (ENOSPC: insufficient storage)",
          "[journal][manager][fault]")
{
    auto table = local::mailbox_table::defaults({"example.org"});
    int fired = 0;
    for (auto o : {test::op::open, test::op::pwrite, test::op::syncfs, test::op::fdatasync}) {
        for (auto mode : {flush_mode::group, flush_mode::per_file}) {
            for (int err : {EIO, ENOSPC}) {
                INFO("op " << static_cast<int>(o) << " mode " << static_cast<int>(mode) << " errno " << err);
                test::temp_dir t;
                test::faulty_fs fsys;
                auto s = journal_settings(t);
                s.flush = mode;
                s.fs = &fsys;
                boost::asio::io_context io;
                manager mgr(io.get_executor(), s, table);
                mgr.start();
                mgr.stop();
                const int before = fsys.calls(o);
                fsys.fail(o, before + 1, err);
                const commit_result res = commit_one(io, mgr, {"bob@example.org"});
                if (fsys.calls(o) == before) continue;  // this mode never makes that call
                ++fired;
                CHECK_FALSE(res.ok);
                CHECK(res.reason == (err == ENOSPC ? "Insufficient system storage" : "Queue file write error"));
                // Healed: the next commit goes through (a failed append never poisons later ones).
                fsys.heal();
                const commit_result again = commit_one(io, mgr, {"bob@example.org"});
                CHECK(again.ok);
                CHECK(files_in(t.path() / "queue/env").empty());
            }
        }
    }
    // open (new segment) and pwrite in both modes, syncfs in group, fdatasync in per_file.
    CHECK(fired == 12);
}

TEST_CASE("journal: an I/O fault at any journal call of a delivery (pread, outcome and done appends, "
          "flushes) ends with exactly one copy once healed", "[journal][manager][fault]")
{
    auto table = local::mailbox_table::defaults({"example.org"});
    int fired = 0;
    for (auto o : {test::op::pread, test::op::pwrite, test::op::syncfs, test::op::fdatasync}) {
        for (auto mode : {flush_mode::group, flush_mode::per_file}) {
            for (int n = 1;; ++n) {
                INFO("op " << static_cast<int>(o) << " mode " << static_cast<int>(mode) << " call " << n);
                REQUIRE(n < 20);
                test::temp_dir t;
                test::faulty_fs fsys;
                auto s = journal_settings(t);
                s.flush = mode;
                s.fs = &fsys;
                boost::asio::io_context io;
                manager mgr(io.get_executor(), s, table);
                mgr.start();
                const int before = fsys.calls(o);
                fsys.fail(o, before + n, EIO);  // counted from the commit on: the delivery is fast
                const commit_result res = commit_one(io, mgr, {"bob@example.org"});
                if (!res.ok) {  // the fault hit the commit: refused, nothing left behind
                    ++fired;
                    REQUIRE(test::run_until(io, [&] { return mgr.idle(); }));
                    CHECK(test::maildir_new(t, "example.org", "bob").empty());
                    CHECK(files_in(t.path() / "queue/journal").empty());
                    CHECK(files_in(t.path() / "queue/env").empty());
                    continue;
                }
                REQUIRE(test::run_until(io, [&] {
                    return mgr.idle() && (mgr.queued() == 0 || fsys.calls(o) >= before + n);
                }));
                const bool hit = fsys.calls(o) >= before + n;
                fsys.heal();
                test::flush_and_drain(io, mgr);
                CHECK(test::maildir_new(t, "example.org", "bob").size() == 1);
                CHECK(queue_is_empty(t));
                if (!hit) break;
                ++fired;
            }
        }
    }
    WARN("journal delivery faults injected: " << fired);
    CHECK(fired >= 8);
}
