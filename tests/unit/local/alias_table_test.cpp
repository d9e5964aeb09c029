#include "support/catch.hpp"

#include "local/address_list.hpp"
#include "local/alias_table.hpp"

#include <string>

using namespace postrider::local;
using v = std::vector<std::string>;

TEST_CASE("address list: quoted names, comments, angle addresses", "[alias]")
{
    auto r = parse_address_list(R"( alice@example.org, "Bob, Smith" <bob@example.net>, carol (the (nested) boss),)"
                                R"( Dave <dave@x.test>, ,"quoted local"@example.org, e @ example.org )");
    REQUIRE(r.error.empty());
    CHECK(r.addresses == v{"alice@example.org", "bob@example.net", "carol", "dave@x.test",
                           "\"quoted local\"@example.org", "e@example.org"});
}

TEST_CASE("address list: refused forms", "[alias]")
{
    auto c = GENERATE(as<std::string>{}, "team: a@x, b@y;", "<a@x", "a@x>", "(open", "\"open", "Bob Smith",
                      "<a@x> trailing", "<>", "<@route:a@x>", "a\x01@x", "<a@x> <b@y>");
    INFO(c);
    auto r = parse_address_list(c);
    CHECK_FALSE(r.error.empty());
    CHECK(r.addresses.empty());
}

TEST_CASE("alias table: entries, continuations, comments, qualification", "[alias]")
{
    auto r = parse_alias_table("# staff list\n"
                               "Staff: alice, \"Bob\" <bob@example.net>,\n"
                               "   carol@example.org (boss)\n"
                               "# a comment between entries\n"
                               "postmaster@example.org: root@example.org\r\n"
                               "postmaster: other\n");
    REQUIRE(r.errors.empty());
    const auto& t = r.table;
    CHECK(t.lookup("staff", "Example.ORG", "+") == v{"alice@example.org", "bob@example.net", "carol@example.org"});
    CHECK(t.lookup("STAFF", "other.test", "+") == v{"alice@other.test", "bob@example.net", "carol@example.org"});
    CHECK(t.lookup("postmaster", "example.org", "+") == v{"root@example.org"});  // name@domain wins
    CHECK(t.lookup("postmaster", "other.test", "+") == v{"other@other.test"});
    CHECK_FALSE(t.lookup("nobody", "example.org", "+"));
    CHECK(t.has("staff", "x.test"));
    CHECK_FALSE(t.has("staff+x", "x.test"));
}

TEST_CASE("alias table: extensions fall back like mailboxes", "[alias]")
{
    auto r = parse_alias_table("owner-list: alice\n");
    REQUIRE(r.errors.empty());
    CHECK(r.table.lookup("owner-list+bob=example.net", "example.org", "+") == v{"alice@example.org"});
    CHECK_FALSE(r.table.lookup("owner-list+bob=example.net", "example.org", ""));
}

TEST_CASE("alias table: errors carry the entry's line", "[alias]")
{
    struct row { const char* text; std::size_t line; };
    auto c = GENERATE(values<row>({
        {"a: b,\n  c\nnocolon\n", 3},
        {"  leading continuation\n", 1},
        {"a: b\na: c\n", 2},
        {"x: |/bin/sh\n", 1},
        {"x: /var/mail/x\n", 1},
        {"x: :include:/etc/list\n", 1},
        {"x:\n", 1},
        {"x: team: a, b;\n", 1},
        {"bad name: a\n", 1},
        {"x: a b c\n", 1},
        {"ok: a\n\nx: <a@b\n", 3},
    }));
    INFO(c.text);
    auto r = parse_alias_table(c.text);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == c.line);
}

TEST_CASE("alias table: an entry's size and member count are bounded", "[alias]")
{
    // One entry, continuation lines included, is at most 1 MiB.
    auto r = parse_alias_table("big: a\n  " + std::string(1024 * 1024, 'b') + "\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 2);
    CHECK(r.errors[0].message == "entry too long");
    // At most max_alias_members members; exactly that many is fine.
    std::string members;
    for (std::size_t i = 0; i < max_alias_members; ++i) members += "u" + std::to_string(i) + ", ";
    CHECK(parse_alias_table("many: " + members + "\n").errors.empty());
    r = parse_alias_table("many: " + members + "one-more\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message == "more than 10000 members");
}

TEST_CASE("mailbox table accepts an alias at a local domain without a mailbox", "[alias]")
{
    auto mt = parse_mailbox_table("alice@example.org example.org/alice/Maildir\n");
    REQUIRE(mt.errors.empty());
    auto at = parse_alias_table("staff: alice\n");
    REQUIRE(at.errors.empty());
    auto table = std::move(mt.table);
    CHECK_FALSE(table.accepts("staff", "example.org"));
    table.set_aliases(std::make_shared<const alias_table>(std::move(at.table)));
    table.set_recipient_delimiter("+");
    CHECK(table.accepts("staff", "example.org"));
    CHECK(table.accepts("staff+x", "example.org"));
    CHECK(table.accepts("alice", "example.org"));
    CHECK_FALSE(table.accepts("staff", "remote.test"));  // not a local domain
    CHECK_FALSE(table.accepts("bob", "example.org"));
}
