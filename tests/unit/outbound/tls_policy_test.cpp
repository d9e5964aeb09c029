// tests/unit/outbound/tls_policy_test.cpp: TLS levels and the tls_policy_table parser and lookup.
#include "support/catch.hpp"

#include "outbound/tls_policy.hpp"

#include <string>

using namespace postrider::outbound;

TEST_CASE("TLS levels: the five Postfix words, in order of strength")
{
    for (auto l : {tls_level::none, tls_level::may, tls_level::encrypt, tls_level::verify, tls_level::secure})
        CHECK(parse_tls_level(level_name(l)) == l);
    CHECK_FALSE(parse_tls_level("dane"));
    CHECK_FALSE(parse_tls_level("MAY"));  // Postfix levels are lower case
    CHECK_FALSE(parse_tls_level(""));
    CHECK_FALSE(mandatory(tls_level::may));
    CHECK(mandatory(tls_level::encrypt));
    CHECK_FALSE(verifies(tls_level::encrypt));
    CHECK(verifies(tls_level::verify));
    CHECK(verifies(tls_level::secure));
}

TEST_CASE("TLS policy table: levels per domain, parent entries, comments, CRLF")
{
    const std::string text = "# policies\n"
                             "bank.example    secure\n"
                             "Partner.ORG\tverify\r\n"
                             "\n"
                             "   # indented comment\n"
                             "legacy.test none\n"
                             ".corp.example encrypt\n";
    auto r = parse_tls_policy_table(text);
    REQUIRE(r.errors.empty());
    CHECK(r.table.size() == 4);
    CHECK(r.table.lookup("bank.example") == tls_level::secure);
    CHECK(r.table.lookup("partner.org") == tls_level::verify);
    CHECK(r.table.lookup("LEGACY.test") == tls_level::none);
    CHECK(r.table.lookup("mx.corp.example") == tls_level::encrypt);
    CHECK(r.table.lookup("a.b.corp.example") == tls_level::encrypt);
    CHECK_FALSE(r.table.lookup("corp.example"));     // .parent matches subdomains only
    CHECK_FALSE(r.table.lookup("sub.bank.example"));  // an exact entry does not cover subdomains
    CHECK_FALSE(r.table.lookup("other.test"));
    CHECK(r.table.any_verifies());
    CHECK_FALSE(parse_tls_policy_table("a.test may\nb.test encrypt\n").table.any_verifies());
}

TEST_CASE("TLS policy table: the nearest parent wins")
{
    auto r = parse_tls_policy_table(".example.com may\n.mail.example.com secure\n");
    REQUIRE(r.errors.empty());
    CHECK(r.table.lookup("a.mail.example.com") == tls_level::secure);
    CHECK(r.table.lookup("a.example.com") == tls_level::may);
}

TEST_CASE("TLS policy table: bad lines are reported with their numbers, nothing half-accepted")
{
    struct row {
        std::string text;
        std::size_t line;
        std::string fragment;
    };
    const row rows[] = {
        {"example.com\n", 1, "expected 'domain level', got 1 fields"},
        {"ok.test may\nx.test verify match=nexthop\n", 2, "got 3 fields"},  // Postfix attributes: refused
        {"x.test dane\n", 1, "'dane' is not a TLS level"},
        {"x.test Verify\n", 1, "is not a TLS level"},
        {"\n\nbad_domain.test may\n", 3, "is not a domain"},
        {"[1.2.3.4]:25 encrypt\n", 1, "is not a domain"},
        {"x.test may\nX.TEST none\n", 2, "duplicate policy for x.test"},
    };
    for (const auto& r : rows) {
        INFO(r.text);
        auto got = parse_tls_policy_table(r.text);
        REQUIRE(got.errors.size() == 1);
        CHECK(got.errors[0].line == r.line);
        CHECK(got.errors[0].message.find(r.fragment) != std::string::npos);
    }
    auto two = parse_tls_policy_table("a.test\nok.test may\nc.test strong\n");
    REQUIRE(two.errors.size() == 2);
    CHECK(two.errors[0].line == 1);
    CHECK(two.errors[1].line == 3);
}
