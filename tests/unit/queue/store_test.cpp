#include "support/catch.hpp"

#include "queue/queue_id.hpp"
#include "queue/store.hpp"
#include "envelopes.hpp"
#include "support/faulty_fs.hpp"
#include "support/temp_dir.hpp"

#include <sys/stat.h>

using namespace postrider;
using namespace postrider::queue;
using test::files_in;

TEST_CASE("create_dirs makes the layout with mode 0700", "[store]")
{
    test::temp_dir t;
    store s(local::posix(), t.path() / "q", flush_mode::group);
    s.create_dirs();
    for (const char* sub : {"", "tmp", "mess", "env", "corrupt"}) {
        struct stat st {};
        REQUIRE(::stat((t.path() / "q" / sub).c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);
    }
}

TEST_CASE("create_dirs throws on an unusable queue directory", "[store]")
{
    test::temp_dir t;
    test::spit(t.path() / "file", "x");
    store s(local::posix(), t.path() / "file" / "q", flush_mode::group);
    CHECK_THROWS_AS(s.create_dirs(), std::runtime_error);
}

TEST_CASE("commit leaves mess/ID and a decodable env/ID, nothing in tmp/", "[store]")
{
    test::temp_dir t;
    for (auto mode : {flush_mode::group, flush_mode::per_file}) {
        store s(local::posix(), t.path() / (mode == flush_mode::group ? "g" : "p"), mode);
        s.create_dirs();
        queue_id_generator ids;
        std::string id = ids.next();
        envelope e = test::make_envelope(id);
        REQUIRE_FALSE(s.commit(id, "Subject: x\r\n\r\nhi\r\n", e));
        CHECK(files_in(s.dir() / "mess") == std::vector<std::string>{id});
        CHECK(files_in(s.dir() / "env") == std::vector<std::string>{id});
        CHECK(files_in(s.dir() / "tmp").empty());
        CHECK(test::slurp(s.dir() / "mess" / id) == "Subject: x\r\n\r\nhi\r\n");
        auto d = decode_env_file(test::slurp(s.dir() / "env" / id));
        REQUIRE(d.file);
        CHECK(d.file->env.message_size == 18);
        CHECK(d.file->env.message_crc == crc32("Subject: x\r\n\r\nhi\r\n"));
        REQUIRE_FALSE(s.append(id, {0, outcome_kind::deferred, 1, 2, 1, "4.2.0", "busy"}));
        CHECK(decode_env_file(test::slurp(s.dir() / "env" / id)).file->journal.size() == 1);
        REQUIRE_FALSE(s.remove(id));
        CHECK(files_in(s.dir() / "mess").empty());
        CHECK(files_in(s.dir() / "env").empty());
    }
}

TEST_CASE("a commit in two parts (trace header, message) is one file whose length and CRC cover both", "[store]")
{
    test::temp_dir t;
    store s(local::posix(), t.path() / "q", flush_mode::group);
    s.create_dirs();
    queue_id_generator ids;
    std::string id = ids.next();
    envelope e = test::make_envelope(id);
    REQUIRE_FALSE(s.commit(id, "Received: by mx.test\r\n", "Subject: x\r\n\r\nhi\r\n", e));
    CHECK(test::slurp(s.dir() / "mess" / id) == "Received: by mx.test\r\nSubject: x\r\n\r\nhi\r\n");
    CHECK(e.message_size == 40);
    CHECK(e.message_crc == crc32("Received: by mx.test\r\nSubject: x\r\n\r\nhi\r\n"));
    auto r = s.recover();  // recovery accepts it: its length and CRC checks see one message
    CHECK(r.quarantined == 0);
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0].env.queue_id == id);
}

TEST_CASE("a failed commit leaves nothing behind, whichever call fails", "[store]")
{
    struct row { test::op o; int n; int err; };
    auto r = GENERATE(values<row>({{test::op::open, 1, EMFILE}, {test::op::write, 1, ENOSPC}, {test::op::open, 2, ENOSPC},
                                   {test::op::write, 2, EIO}, {test::op::rename, 1, EIO}, {test::op::rename, 2, EIO},
                                   {test::op::fsync, 1, EIO}, {test::op::fsync, 3, EIO}, {test::op::fsync, 4, EIO}}));
    INFO("failing call " << static_cast<int>(r.o) << " #" << r.n);
    test::temp_dir t;
    test::faulty_fs ffs;
    store s(ffs, t.path() / "q", flush_mode::per_file);
    s.create_dirs();
    ffs.fail(r.o, r.n, r.err);
    std::string id = queue_id_generator{}.next();
    envelope e = test::make_envelope(id);
    auto ec = s.commit(id, "data\r\n", e);
    CHECK(ec.value() == r.err);
    CHECK(files_in(s.dir() / "mess").empty());
    CHECK(files_in(s.dir() / "env").empty());
    CHECK(files_in(s.dir() / "tmp").empty());
}

TEST_CASE("a message larger than recovery reads back is refused, not committed", "[store][journal]")
{
    test::temp_dir t;
    store s(local::posix(), t.path() / "q", flush_mode::group);
    s.create_dirs();
    const bool journal = GENERATE(false, true);
    if (journal) s.use_journal({});
    s.recover();
    queue_id_generator ids;
    const std::string id = ids.next();
    envelope e = test::make_envelope(id);
    const std::string body(max_message_file, 'x');
    CHECK(s.commit(id, "R", body, e) == std::errc::file_too_large);  // the head counts too
    CHECK_FALSE(s.in_journal(id));
    CHECK(files_in(s.dir() / "env").empty());
    CHECK(files_in(s.dir() / "mess").empty());
    CHECK(files_in(s.dir() / "tmp").empty());
    CHECK(files_in(s.dir() / "journal").empty());
}

TEST_CASE("recovery cleans tmp/, drops orphans and quarantines bad files", "[store]")
{
    test::temp_dir t;
    store s(local::posix(), t.path() / "q", flush_mode::group);
    s.create_dirs();
    queue_id_generator ids;
    std::string good = ids.next(), torn = ids.next(), garbled = ids.next(), orphan = ids.next();
    envelope e1 = test::make_envelope(good), e2 = test::make_envelope(torn), e3 = test::make_envelope(garbled);
    REQUIRE_FALSE(s.commit(good, "good message\r\n", e1));
    REQUIRE_FALSE(s.commit(torn, "this one will be cut\r\n", e2));
    REQUIRE_FALSE(s.commit(garbled, "x\r\n", e3));
    REQUIRE_FALSE(s.append(good, {0, outcome_kind::deferred, 1, 2, 1, "4.2.0", "busy"}));
    test::spit(s.dir() / "mess" / torn, "this one");                 // torn unflushed message
    test::spit(s.dir() / "env" / garbled, "PRQ1 garbage");           // damaged envelope
    test::spit(s.dir() / "env" / "not-an-id", "whatever");           // planted name
    test::spit(s.dir() / "mess" / orphan, "never committed");        // mess without env
    test::spit(s.dir() / "tmp" / (orphan + ".env"), "half written");  // interrupted commit

    auto r = s.recover();
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0].env.queue_id == good);
    CHECK(r.messages[0].journal.size() == 1);
    CHECK(r.tmp_removed == 1);
    CHECK(r.orphans_removed == 1);
    CHECK(r.quarantined == 3);
    CHECK(files_in(s.dir() / "tmp").empty());
    CHECK(files_in(s.dir() / "env") == std::vector<std::string>{good});
    CHECK(files_in(s.dir() / "mess") == std::vector<std::string>{good});
    auto corrupt = files_in(s.dir() / "corrupt");
    std::sort(corrupt.begin(), corrupt.end());
    std::vector<std::string> want{garbled + ".env", garbled + ".mess", "not-an-id.env", torn + ".env", torn + ".mess"};
    std::sort(want.begin(), want.end());
    CHECK(corrupt == want);
}
