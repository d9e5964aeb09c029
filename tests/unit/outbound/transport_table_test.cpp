// tests/unit/outbound/transport_table_test.cpp: the transport table parser (line-numbered errors) and lookup.
#include "support/catch.hpp"

#include "outbound/transport_table.hpp"

#include <string>

using namespace postrider::outbound;

TEST_CASE("transport table: every next-hop form, comments, blanks, CRLF")
{
    const std::string text = "# routes\n"
                             "\n"
                             "example.com    mx.relay.net\n"
                             "Other.ORG\t[10.0.0.7]:2525\r\n"
                             "   # indented comment\n"
                             "lists.test  [smarthost.test]\n"
                             "v6.test [::1]:26\n"
                             ".sub.test relay.test:587";
    auto r = parse_transport_table(text, 25);
    REQUIRE(r.errors.empty());
    CHECK(r.table.size() == 5);

    auto a = r.table.lookup("example.com");
    REQUIRE(a);
    CHECK(a->host == "mx.relay.net");
    CHECK(a->port == 25);
    CHECK(a->mx_lookup);

    auto b = r.table.lookup("other.org");  // case-insensitive both ways
    REQUIRE(b);
    CHECK(b->host == "10.0.0.7");
    CHECK(b->port == 2525);
    CHECK_FALSE(b->mx_lookup);

    auto c = r.table.lookup("LISTS.test");
    REQUIRE(c);
    CHECK(c->host == "smarthost.test");
    CHECK_FALSE(c->mx_lookup);

    auto d = r.table.lookup("v6.test");
    REQUIRE(d);
    CHECK(d->host == "::1");
    CHECK(d->port == 26);
}

TEST_CASE("transport table: exact match only, .parent matches subdomains but not itself")
{
    auto r = parse_transport_table("example.com a.test\n.sub.test b.test\n.deep.sub.test c.test\n", 25);
    REQUIRE(r.errors.empty());
    CHECK_FALSE(r.table.lookup("mail.example.com"));  // no implicit subdomains
    CHECK_FALSE(r.table.lookup("example.co"));
    CHECK_FALSE(r.table.lookup("sub.test"));
    auto x = r.table.lookup("x.sub.test");
    REQUIRE(x);
    CHECK(x->host == "b.test");
    auto y = r.table.lookup("y.deep.sub.test");  // the nearest parent wins
    REQUIRE(y);
    CHECK(y->host == "c.test");
    CHECK_FALSE(r.table.lookup(""));
}

TEST_CASE("transport table: bad lines are reported with their numbers, nothing half-accepted")
{
    struct row {
        std::string text;
        std::size_t line;
        std::string fragment;
    };
    const row rows[] = {
        {"example.com\n", 1, "expected 'domain nexthop', got 1 fields"},
        {"ok.test a.test\nexample.com a.test extra\n", 2, "got 3 fields"},
        {"\n\nbad_domain.test a.test\n", 3, "is not a domain"},
        {"-lead.test a.test\n", 1, "is not a domain"},
        {"a..b a.test\n", 1, "is not a domain"},
        {". a.test\n", 1, "is not a domain"},
        {"x.test [a.test\n", 1, "is not host, host:port"},
        {"x.test a.test:0\n", 1, "is not host, host:port"},
        {"x.test a.test:65536\n", 1, "is not host, host:port"},
        {"x.test ::1:25\n", 1, "is not host, host:port"},
        {"x.test a.test\nX.TEST b.test\n", 2, "duplicate route for x.test"},
    };
    for (const auto& r : rows) {
        INFO(r.text);
        auto got = parse_transport_table(r.text, 25);
        REQUIRE(got.errors.size() == 1);
        CHECK(got.errors[0].line == r.line);
        CHECK(got.errors[0].message.find(r.fragment) != std::string::npos);
    }
}

TEST_CASE("transport table: every bad line is reported, not only the first")
{
    auto got = parse_transport_table("a.test\nok.test b.test\nc.test [x\n", 25);
    REQUIRE(got.errors.size() == 2);
    CHECK(got.errors[0].line == 1);
    CHECK(got.errors[1].line == 3);
}

TEST_CASE("transport table: default port comes from the caller (remote_smtp_port)")
{
    auto r = parse_transport_table("a.test b.test\n", 2525);
    REQUIRE(r.errors.empty());
    CHECK(r.table.lookup("a.test")->port == 2525);
    CHECK(parse_transport_table("", 25).table.empty());
}
