#include "support/catch.hpp"

#include "dns/ares_error.hpp"
#include "dns/mx.hpp"

#include <ares.h>

#include <map>
#include <set>

using namespace postrider::dns;

namespace {

// first_choice - a deterministic generator that always picks index 0 (no reordering beyond a swap pattern).
std::uint32_t zero(std::uint32_t) { return 0; }

}  // namespace

TEST_CASE("plan_mx sorts by preference and normalises names")
{
    auto p = plan_mx({{20, "B.example."}, {10, "a.example"}, {30, "c.example"}}, zero);
    CHECK(p.kind == mx_kind::hosts);
    CHECK(p.hosts == std::vector<std::string>{"a.example", "b.example", "c.example"});
}

TEST_CASE("plan_mx shuffles equal preferences with the injected generator, never across preferences")
{
    std::set<std::vector<std::string>> orders;
    std::uint32_t seed = 1;
    for (int i = 0; i < 200; ++i) {
        auto p = plan_mx({{10, "a"}, {10, "b"}, {10, "c"}, {5, "first"}, {99, "last"}},
                         [&seed](std::uint32_t n) { seed = seed * 1103515245 + 12345; return (seed >> 16) % n; });
        REQUIRE(p.hosts.size() == 5);
        CHECK(p.hosts.front() == "first");
        CHECK(p.hosts.back() == "last");
        orders.insert(p.hosts);
    }
    CHECK(orders.size() == 6);  // all 3! orders of the equal-preference group occur
}

TEST_CASE("plan_mx: null MX, bad names, duplicates")
{
    CHECK(plan_mx({{0, ""}}, zero).kind == mx_kind::null_mx);
    CHECK(plan_mx({{0, "."}}, zero).kind == mx_kind::null_mx);
    // A null MX next to real ones is a misconfiguration: use the real ones.
    auto mixed = plan_mx({{0, ""}, {10, "mx.example"}}, zero);
    CHECK(mixed.kind == mx_kind::hosts);
    CHECK(mixed.hosts == std::vector<std::string>{"mx.example"});
    auto bad = plan_mx({{10, "bad name"}, {20, "-x.example"}, {30, "a..b"}}, zero);
    CHECK(bad.kind == mx_kind::no_hosts);
    auto dup = plan_mx({{10, "mx.example"}, {20, "MX.example."}}, zero);
    CHECK(dup.hosts == std::vector<std::string>{"mx.example"});
}

TEST_CASE("implicit_mx is the domain itself")
{
    auto p = implicit_mx("Example.ORG.");
    CHECK(p.kind == mx_kind::hosts);
    CHECK(p.hosts == std::vector<std::string>{"example.org"});
    CHECK(implicit_mx("not a domain").kind == mx_kind::no_hosts);
}

TEST_CASE("valid_host_name")
{
    CHECK(valid_host_name("a.b-c.example"));
    CHECK(valid_host_name("_dmarc.example"));
    CHECK_FALSE(valid_host_name(""));
    CHECK_FALSE(valid_host_name("a.-b"));
    CHECK_FALSE(valid_host_name("a-.b"));
    CHECK_FALSE(valid_host_name(std::string(64, 'a') + ".example"));
    CHECK_FALSE(valid_host_name("a/b"));
}

TEST_CASE("dns errors are classed: NXDOMAIN, NODATA, null MX permanent; the rest temporary")
{
    CHECK(is_permanent(make_ares_error(ARES_ENOTFOUND)));
    CHECK(is_permanent(make_ares_error(ARES_ENODATA)));
    CHECK(is_permanent(make_error_code(errc::null_mx)));
    CHECK_FALSE(is_permanent(make_ares_error(ARES_ESERVFAIL)));
    CHECK_FALSE(is_permanent(make_ares_error(ARES_ETIMEOUT)));
    CHECK_FALSE(is_permanent(make_ares_error(ARES_ECONNREFUSED)));
    CHECK_FALSE(is_permanent(std::make_error_code(std::errc::io_error)));
    CHECK(is_no_data(make_ares_error(ARES_ENODATA)));
    CHECK_FALSE(make_ares_error(ARES_SUCCESS));
    CHECK(make_ares_error(ARES_ENOTFOUND).message() == ares_strerror(ARES_ENOTFOUND));
}
