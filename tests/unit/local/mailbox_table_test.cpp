#include "support/catch.hpp"

#include "local/mailbox_table.hpp"
#include "local/mailbox_table_file.hpp"
#include "support/temp_dir.hpp"

using namespace postrider::local;

TEST_CASE("table lines map addresses and catch-alls to relative maildir paths", "[mailbox_table]")
{
    auto r = parse_mailbox_table("# users of example.org\n"
                                 "alice@example.org   example.org/alice/Maildir\n"
                                 "\n"
                                 "  Bob@Example.ORG\texample.org/bob/Maildir/   # not a comment: error below\n"
                                 "@example.net        example.net/catchall/Maildir\r\n",
                                 {"extra.example"});
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 4);
    auto ok = parse_mailbox_table("# users of example.org\n"
                                  "alice@example.org   example.org/alice/Maildir\n"
                                  "\n"
                                  "  Bob@Example.ORG\texample.org/bob/Maildir/\n"
                                  "@example.net        example.net/catchall/Maildir\r\n",
                                  {"extra.example"});
    REQUIRE(ok.errors.empty());
    const auto& t = ok.table;
    struct row { const char* local; const char* domain; std::optional<std::string> want; };
    auto c = GENERATE(values<row>({
        {"alice", "example.org", "example.org/alice/Maildir"},
        {"ALICE", "EXAMPLE.org", "example.org/alice/Maildir"},
        {"bob", "example.org", "example.org/bob/Maildir/"},
        {"carol", "example.org", std::nullopt},  // listed domain, unlisted user: 550 5.1.1
        {"anyone", "example.net", "example.net/catchall/Maildir"},
        {"x", "extra.example", std::nullopt},
        {"alice", "other.example", std::nullopt},
    }));
    INFO(c.local << "@" << c.domain);
    CHECK(t.lookup(c.local, c.domain) == c.want);
    CHECK(t.is_local_domain("example.org"));
    CHECK(t.is_local_domain("Example.NET"));
    CHECK(t.is_local_domain("extra.example"));
    CHECK_FALSE(t.is_local_domain("remote.example"));
}

TEST_CASE("bad table lines are reported with their line numbers", "[mailbox_table]")
{
    struct row { const char* line; const char* want; };
    auto c = GENERATE(values<row>({
        {"alice@example.org", "expected two fields: address and maildir path"},
        {"alice@example.org a b", "expected two fields: address and maildir path"},
        {"alice example.org/alice", "address has no '@'"},
        {"alice@exa_mple.org x", "bad domain"},
        {"alice@ x", "bad domain"},
        {"al/ice@example.org x", "bad local part (allowed: a-z 0-9 . _ + -)"},
        {".alice@example.org x", "bad local part (allowed: a-z 0-9 . _ + -)"},
        {"alice@example.org /var/mail/alice", "bad maildir path (relative, a-z A-Z 0-9 . _ + - /, no '..')"},
        {"alice@example.org ../../etc", "bad maildir path (relative, a-z A-Z 0-9 . _ + - /, no '..')"},
        {"alice@example.org a/../b", "bad maildir path (relative, a-z A-Z 0-9 . _ + - /, no '..')"},
        {"alice@example.org a//b", "bad maildir path (relative, a-z A-Z 0-9 . _ + - /, no '..')"},
        {"alice@example.org a/$HOME", "bad maildir path (relative, a-z A-Z 0-9 . _ + - /, no '..')"},
    }));
    INFO(c.line);
    auto r = parse_mailbox_table(std::string("# ok\nok@example.org ok/Maildir\n") + c.line + "\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 3);
    CHECK(r.errors[0].message == c.want);
}

TEST_CASE("duplicates are errors; every bad line is reported", "[mailbox_table]")
{
    auto r = parse_mailbox_table("a@x.org p\nA@X.org q\n@x.org r\n@X.ORG s\nbad\n");
    REQUIRE(r.errors.size() == 3);
    CHECK(r.errors[0].line == 2);
    CHECK(r.errors[0].message == "duplicate entry for a@x.org");
    CHECK(r.errors[1].line == 4);
    CHECK(r.errors[2].line == 5);
}

TEST_CASE("default mapping: safe local parts at local domains only", "[mailbox_table]")
{
    auto t = mailbox_table::defaults({"Example.org"});
    struct row { const char* local; const char* domain; std::optional<std::string> want; };
    auto c = GENERATE(values<row>({
        {"alice", "example.org", "example.org/alice/Maildir"},
        {"Alice.Smith+tag", "EXAMPLE.ORG", "example.org/alice.smith+tag/Maildir"},
        {"..", "example.org", std::nullopt},
        {".hidden", "example.org", std::nullopt},
        {"a..b", "example.org", std::nullopt},
        {"a/b", "example.org", std::nullopt},
        {"\"quoted local\"", "example.org", std::nullopt},
        {"", "example.org", std::nullopt},
        {"alice", "remote.example", std::nullopt},
    }));
    INFO(c.local << "@" << c.domain);
    CHECK(t.lookup(c.local, c.domain) == c.want);
    CHECK(t.lookup(std::string(65, 'a'), "example.org") == std::nullopt);
}

TEST_CASE("load_mailbox_table reports file:line errors, reads good files", "[mailbox_table]")
{
    postrider::test::temp_dir d;
    postrider::test::spit(d.path() / "good", "a@x.org x.org/a/Maildir\n");
    postrider::test::spit(d.path() / "bad", "a@x.org /abs\n");
    CHECK(load_mailbox_table(d.path() / "good", {}).lookup("a", "x.org") == "x.org/a/Maildir");
    CHECK_THROWS_WITH(load_mailbox_table(d.path() / "bad", {}),
                      Catch::Contains("bad:1: bad maildir path"));
    CHECK_THROWS_WITH(load_mailbox_table(d.path() / "missing", {}), Catch::Contains("cannot read"));
}

TEST_CASE("extension_candidates: qmail -default fallbacks, then the bare user", "[mailbox_table][extension]")
{
    using v = std::vector<std::string>;
    CHECK(extension_candidates("user-a-b", "-") == v{"user-a-b", "user-a-default", "user-default", "user"});
    CHECK(extension_candidates("user+ext", "+") == v{"user+ext", "user+default", "user"});
    CHECK(extension_candidates("user+a-b", "+-") == v{"user+a-b", "user+a-default", "user+default", "user"});
    CHECK(extension_candidates("user-ext", "+") == v{"user-ext"});  // '-' is no delimiter here
    CHECK(extension_candidates("user+ext", "") == v{"user+ext"});
    CHECK(extension_candidates("+ext", "+") == v{"+ext"});           // no user part
    CHECK(extension_candidates("user+", "+") == v{"user+", "user+default", "user"});
    CHECK(extension_candidates("user+default", "+") == v{"user+default", "user"});
    CHECK(extension_candidates(std::string(65, 'a') + "+x", "+").size() == 1);  // too long: no fallbacks
}

TEST_CASE("table lookups fall back from user+ext to -default entries, the user, the catch-all",
          "[mailbox_table][extension]")
{
    auto r = parse_mailbox_table("alice@example.org          example.org/alice/Maildir\n"
                                 "alice-lists@example.org    example.org/alice/lists\n"
                                 "bob-default@example.org    example.org/bob/extensions\n"
                                 "bob@example.org            example.org/bob/Maildir\n"
                                 "@example.net               example.net/catchall/Maildir\n");
    REQUIRE(r.errors.empty());
    auto t = r.table;
    t.set_recipient_delimiter("+-");
    struct row { const char* local; const char* domain; std::optional<std::string> want; };
    auto c = GENERATE(values<row>({
        {"alice", "example.org", "example.org/alice/Maildir"},
        {"alice+news", "example.org", "example.org/alice/Maildir"},
        {"alice-lists", "example.org", "example.org/alice/lists"},      // exact entry wins
        {"alice-lists-x", "example.org", "example.org/alice/Maildir"},  // no alice-lists-default
        {"bob", "example.org", "example.org/bob/Maildir"},
        {"bob+x", "example.org", "example.org/bob/Maildir"},            // bob-default serves the - delimiter only
        {"bob-x", "example.org", "example.org/bob/extensions"},
        {"Bob-X-Y", "example.org", "example.org/bob/extensions"},
        {"carol+x", "example.org", std::nullopt},
        {"+alice", "example.org", std::nullopt},
        {"anyone+x", "example.net", "example.net/catchall/Maildir"},
    }));
    INFO(c.local);
    CHECK(t.lookup(c.local, c.domain) == c.want);
}

TEST_CASE("default mapping: user+ext goes to user's maildir; address text never escapes", "[mailbox_table][extension]")
{
    auto t = mailbox_table::defaults({"localhost"});
    t.set_recipient_delimiter("+");
    struct row { std::string local; std::optional<std::string> want; };
    auto c = GENERATE(values<row>({
        {"alice+news", "localhost/alice/Maildir"},
        {"alice+a+b", "localhost/alice/Maildir"},
        {"alice-x", "localhost/alice-x/Maildir"},
        {"+news", "localhost/+news/Maildir"},  // no user part: the whole (safe) name
        {"../etc+x", std::nullopt},
        {"a/b+c", std::nullopt},
        {"alice+../../x", std::nullopt},
        {"alice+a/b", std::nullopt},
        {std::string("alice+\0x", 8), std::nullopt},
        {"alice+\x01", std::nullopt},
        {"alice+\n", std::nullopt},
        {".alice+x", std::nullopt},
        {"..+x", std::nullopt},
        // A VERP return path: '=' in the extension only; the user part never has one.
        {"owner-list+joe=example.net", "localhost/owner-list/Maildir"},
        {"a=b", std::nullopt},
        {"a=b+x", std::nullopt},
        {"owner+=../x", std::nullopt},
    }));
    INFO(c.local);
    CHECK(t.lookup(c.local, "localhost") == c.want);
}
