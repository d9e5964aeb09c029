// tests/unit/inbound/cidr_test.cpp: mynetworks parsing and matching.
#include "inbound/cidr.hpp"
#include "support/catch.hpp"

using namespace postrider::inbound;

namespace {

bool in(const std::vector<std::string>& specs, std::string_view peer)
{
    std::string error;
    auto list = network_list::parse(specs, error);
    REQUIRE(list);
    return list->contains(peer);
}

std::string parse_error(std::string_view spec)
{
    std::string error;
    CHECK_FALSE(parse_cidr(spec, error));
    return error;
}

}  // namespace

TEST_CASE("cidr: IPv4 blocks", "[cidr]")
{
    CHECK(in({"127.0.0.1/32"}, "127.0.0.1"));
    CHECK_FALSE(in({"127.0.0.1/32"}, "127.0.0.2"));
    CHECK(in({"10.0.0.0/8"}, "10.255.1.2"));
    CHECK_FALSE(in({"10.0.0.0/8"}, "11.0.0.0"));
    CHECK(in({"192.168.4.0/22"}, "192.168.7.255"));
    CHECK_FALSE(in({"192.168.4.0/22"}, "192.168.8.0"));
    CHECK(in({"0.0.0.0/0"}, "203.0.113.9"));
    CHECK(in({"127.0.0.1"}, "127.0.0.1"));  // no prefix: one host
    CHECK(in({"172.16.0.0/12", "127.0.0.0/8"}, "127.1.2.3"));
    CHECK_FALSE(in({}, "127.0.0.1"));
}

TEST_CASE("cidr: IPv6 blocks, bracketed form, and mapped IPv4 peers", "[cidr]")
{
    CHECK(in({"::1/128"}, "::1"));
    CHECK(in({"[::1]/128"}, "::1"));
    CHECK_FALSE(in({"::1/128"}, "::2"));
    CHECK(in({"2001:db8::/32"}, "2001:db8:ffff::1"));
    CHECK_FALSE(in({"2001:db8::/32"}, "2001:db9::1"));
    CHECK(in({"fe80::/10"}, "febf::1"));
    CHECK_FALSE(in({"fe80::/10"}, "fec0::1"));
    CHECK(in({"2001:DB8:0:0:0:0:0:0/64"}, "2001:db8::abcd"));
    // A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d: IPv4 rules still apply.
    CHECK(in({"127.0.0.1/32"}, "::ffff:127.0.0.1"));
    CHECK_FALSE(in({"127.0.0.1/32"}, "::ffff:127.0.0.2"));
    CHECK(in({"::ffff:0:0/96"}, "::ffff:10.1.2.3"));
    // Families never match each other otherwise.
    CHECK_FALSE(in({"0.0.0.0/0"}, "::1"));
    CHECK_FALSE(in({"::/0"}, "127.0.0.1"));
    CHECK(in({"::/0"}, "::ffff:127.0.0.1"));
}

TEST_CASE("cidr: parse_ip edge cases", "[cidr]")
{
    CHECK(parse_ip("1.2.3.4"));
    CHECK(parse_ip("::"));
    CHECK(parse_ip("1::"));
    CHECK(parse_ip("::1.2.3.4"));
    CHECK(parse_ip("1:2:3:4:5:6:7:8"));
    CHECK(parse_ip("1:2:3:4:5:6:1.2.3.4"));
    CHECK_FALSE(parse_ip("1:2:3:4:5:6:7:8:9"));
    CHECK_FALSE(parse_ip("1:2:3:4:5:6:7::8"));  // "::" must stand for at least one group
    CHECK_FALSE(parse_ip("1::2::3"));
    CHECK_FALSE(parse_ip(":1::2"));
    CHECK_FALSE(parse_ip("12345::"));
    CHECK_FALSE(parse_ip("01.2.3.4"));  // leading zero: octal in some parsers
    CHECK_FALSE(parse_ip("1.2.3"));
    CHECK_FALSE(parse_ip("1.2.3.4.5"));
    CHECK_FALSE(parse_ip("256.1.1.1"));
    CHECK_FALSE(parse_ip(""));
    CHECK_FALSE(parse_ip("localhost"));
    CHECK_FALSE(parse_ip("1.2.3.4 "));
}

TEST_CASE("cidr: bad specs are refused with a reason", "[cidr]")
{
    CHECK(parse_error("10.0.0.1/8").find("host bits") != std::string::npos);
    CHECK(parse_error("10.0.0.0/33").find("prefix longer") != std::string::npos);
    CHECK(parse_error("::/129").find("prefix longer") != std::string::npos);
    CHECK(parse_error("10.0.0.0/").find("bad prefix") != std::string::npos);
    CHECK(parse_error("10.0.0.0/08").find("bad prefix") != std::string::npos);
    CHECK(parse_error("10.0.0.0/x").find("bad prefix") != std::string::npos);
    CHECK(parse_error("example.com/24").find("not an IPv4") != std::string::npos);
    std::string error;
    CHECK_FALSE(network_list::parse({"127.0.0.0/8", "nonsense"}, error));
    CHECK(error.find("nonsense") != std::string::npos);
}
