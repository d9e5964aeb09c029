#include "support/catch.hpp"

#include "local/maildir.hpp"
#include "support/faulty_fs.hpp"
#include "support/temp_dir.hpp"

#include <sys/stat.h>

using namespace postrider;
using namespace postrider::local;
using test::files_in;

TEST_CASE("unique names follow the maildir convention, host escaped", "[maildir]")
{
    CHECK(unique_name(1700000000123456, 4242, "K0123456789ABCDEF-7", "mx.example.org") ==
          "1700000000.M123456P4242K0123456789ABCDEF-7.mx.example.org");
    CHECK(unique_name(5, 1, "Q2", "a/b:c") == "0.M5P1Q2.a\\057b\\072c");
    CHECK(delivery_tag("0123456789ABCDEF", 12) == "K0123456789ABCDEF-12");
}

TEST_CASE("a delivery tag matches only its own (message, recipient), in new/ and cur/ names", "[maildir]")
{
    const std::string tag = delivery_tag("0123456789ABCDEF", 1);
    CHECK(has_delivery_tag("1700000000.M1P2K0123456789ABCDEF-1.host", tag));
    CHECK(has_delivery_tag("1700000000.M1P2K0123456789ABCDEF-1.host:2,S", tag));  // moved to cur/ and seen
    CHECK_FALSE(has_delivery_tag("1700000000.M1P2K0123456789ABCDEF-11.host", tag));
    CHECK_FALSE(has_delivery_tag("1700000000.M1P2K0123456789ABCDEF-0.host", tag));
    CHECK_FALSE(has_delivery_tag("1700000000.M1P2K0123456789ABCDEG-1.host", tag));
    CHECK_FALSE(has_delivery_tag("1700000000.M1P2Q7.K0123456789ABCDEF-1", tag));  // in the host part: not ours
    CHECK_FALSE(has_delivery_tag("K0123456789ABCDEF-1", tag));
    CHECK_FALSE(has_delivery_tag("", tag));
}

TEST_CASE("find_delivery looks in new/ and cur/, not tmp/; a missing maildir holds nothing", "[maildir]")
{
    test::temp_dir t;
    auto md = t.path() / "Maildir";
    const std::string tag = delivery_tag("0123456789ABCDEF", 0);
    std::filesystem::path found = "stale";
    REQUIRE_FALSE(find_delivery(md, tag, found));
    CHECK(found.empty());
    for (const char* sub : {"tmp", "new", "cur"}) std::filesystem::create_directories(md / sub);
    test::spit(md / "tmp" / ("1.M1P1" + tag + ".h"), "half");  // a staged, unpublished copy does not count
    test::spit(md / "new" / "1.M1P1K0123456789ABCDEF-1.h", "other recipient");
    REQUIRE_FALSE(find_delivery(md, tag, found));
    CHECK(found.empty());
    test::spit(md / "cur" / ("1.M1P1" + tag + ".h:2,S"), "read by the user");
    REQUIRE_FALSE(find_delivery(md, tag, found));
    CHECK(found == md / "cur" / ("1.M1P1" + tag + ".h:2,S"));
    std::filesystem::remove(md / "cur" / ("1.M1P1" + tag + ".h:2,S"));
    test::spit(md / "new" / ("2.M1P1" + tag + ".h"), "x");
    REQUIRE_FALSE(find_delivery(md, tag, found));
    CHECK(found == md / "new" / ("2.M1P1" + tag + ".h"));
    // make_durable: fsync of the file, then of its directory.
    test::faulty_fs ffs;
    REQUIRE_FALSE(make_durable(ffs, found));
    CHECK(ffs.calls(test::op::fsync) == 2);
    ffs.fail(test::op::fsync, 4, EIO);  // the directory's
    CHECK(make_durable(ffs, found).value() == EIO);
    CHECK(make_durable(ffs, md / "new" / "missing").value() == ENOENT);
}

TEST_CASE("prefix lines cannot be split by CR/LF in addresses; CRLF becomes LF", "[maildir]")
{
    CHECK(delivery_prefix("", "bob@example.org") == "Return-Path: <>\nDelivered-To: bob@example.org\n");
    CHECK(delivery_prefix("a\r\nX-Evil: 1@x", "b\n@y") == "Return-Path: <aX-Evil: 1@x>\nDelivered-To: b@y\n");
    CHECK(to_lf("a\r\nb\r\n\r\nc\rd\n") == "a\nb\n\nc\rd\n");
    CHECK(to_lf("") == "");
    CHECK(to_lf("\r\n\r") == "\n\r");
    std::string s = "x\r\ny\r\r\n";
    to_lf_in_place(s);
    CHECK(s == "x\ny\r\n");
    CHECK(to_lf("\r") == "\r");
    CHECK(to_lf("\r\r\r\n") == "\r\r\n");
    CHECK(to_lf("no line end") == "no line end");
    CHECK(to_lf("a\r\nb") == "a\nb");
}

TEST_CASE("stage + publish: a missing Maildir is created 0700, the file lands in new/", "[maildir]")
{
    test::temp_dir t;
    for (bool fsync_each : {false, true}) {
        auto md = t.path() / (fsync_each ? "f" : "g") / "user" / "Maildir";
        maildir_delivery d(posix(), md, "1.M1P1Q1.host", fsync_each);
        REQUIRE_FALSE(d.stage("hello\n"));
        CHECK(files_in(md / "tmp") == std::vector<std::string>{"1.M1P1Q1.host"});
        CHECK(files_in(md / "new").empty());
        REQUIRE_FALSE(d.publish());
        CHECK(files_in(md / "tmp").empty());
        CHECK(test::slurp(md / "new" / "1.M1P1Q1.host") == "hello\n");
        for (const char* sub : {"tmp", "new", "cur"}) {
            struct stat st {};
            REQUIRE(::stat((md / sub).c_str(), &st) == 0);
            CHECK((st.st_mode & 0777) == 0700);
        }
    }
}

TEST_CASE("a new/ removed between stage and publish is made again; an existing maildir is left as it is", "[maildir]")
{
    test::temp_dir t;
    auto md = t.path() / "user" / "Maildir";
    maildir_delivery first(posix(), md, "1.M1P1Q1.host", false);
    REQUIRE_FALSE(first.stage("one\n"));
    REQUIRE_FALSE(first.publish());
    maildir_delivery second(posix(), md, "2.M2P2Q2.host", false);
    REQUIRE_FALSE(second.stage("two\n"));
    std::filesystem::remove_all(md / "new");
    REQUIRE_FALSE(second.publish());
    CHECK(test::slurp(md / "new" / "2.M2P2Q2.host") == "two\n");
    CHECK(files_in(md / "tmp").empty());
}

TEST_CASE("with fsync_each, every directory a first delivery creates is flushed into its parent", "[maildir]")
{
    test::temp_dir t;
    test::faulty_fs fs;
    // Missing: p, user, Maildir, then tmp, new and cur: six mkdirs, each followed by an fsync
    // of its parent, plus the file's own fsync. Without them a power loss could drop the
    // new maildir (and the message in it) after the journal recorded the delivery.
    auto md = t.path() / "p" / "user" / "Maildir";
    maildir_delivery first(fs, md, "1.M1P1Q1.host", true);
    REQUIRE_FALSE(first.stage("hello\n"));
    CHECK(fs.calls(test::op::fsync) == 7);
    // The next delivery finds the directories: only its file is flushed at stage.
    maildir_delivery second(fs, md, "2.M1P1Q1.host", true);
    REQUIRE_FALSE(second.stage("again\n"));
    CHECK(fs.calls(test::op::fsync) == 8);
    // Group mode leaves every flush to the round's syncfs.
    test::faulty_fs group_fs;
    maildir_delivery grouped(group_fs, t.path() / "q" / "Maildir", "3.M1P1Q1.host", false);
    REQUIRE_FALSE(grouped.stage("x\n"));
    CHECK(group_fs.calls(test::op::fsync) == 0);
}

TEST_CASE("an injected write failure leaves no file in tmp/ or new/", "[maildir]")
{
    test::temp_dir t;
    test::faulty_fs ffs;
    auto md = t.path() / "Maildir";
    SECTION("ENOSPC while writing")
    {
        ffs.fail(test::op::write, 1, ENOSPC);
        maildir_delivery d(ffs, md, "n1", true);
        CHECK(d.stage("data\n").value() == ENOSPC);
    }
    SECTION("EIO on fsync")
    {
        ffs.fail(test::op::fsync, 1, EIO);
        maildir_delivery d(ffs, md, "n1", true);
        CHECK(d.stage("data\n").value() == EIO);
    }
    SECTION("EIO on rename, then discard")
    {
        ffs.fail(test::op::rename, 1, EIO);
        maildir_delivery d(ffs, md, "n1", false);
        REQUIRE_FALSE(d.stage("data\n"));
        CHECK(d.publish().value() == EIO);
        CHECK(d.discard());  // nothing left (the missing new/ file does not count)
    }
    CHECK(files_in(md / "tmp").empty());
    CHECK(files_in(md / "new").empty());
}

TEST_CASE("discard says when it could not remove a published copy", "[maildir]")
{
    test::temp_dir t;
    auto md = t.path() / "Maildir";
    test::faulty_fs ffs;
    maildir_delivery d(ffs, md, "n1", false);
    REQUIRE_FALSE(d.stage("data\n"));
    REQUIRE_FALSE(d.publish());
    ffs.fail(test::op::unlink, ffs.calls(test::op::unlink) + 2, EIO);  // the new/ file's
    CHECK_FALSE(d.discard());
    CHECK(files_in(md / "new") == std::vector<std::string>{"n1"});
    CHECK(d.discard());
    CHECK(files_in(md / "new").empty());
}
