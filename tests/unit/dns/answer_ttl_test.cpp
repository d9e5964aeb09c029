// tests/unit/dns/answer_ttl_test.cpp: the raw-answer TTL reader on hand-built DNS messages.
#include "support/catch.hpp"

#include "dns/answer_ttl.hpp"

#include <cstdint>
#include <string>
#include <vector>

using namespace postrider::dns;

namespace {

using bytes = std::vector<std::uint8_t>;

void u16(bytes& b, unsigned v) { b.push_back(v >> 8 & 0xff); b.push_back(v & 0xff); }
void u32(bytes& b, std::uint32_t v) { u16(b, v >> 16); u16(b, v & 0xffff); }

// name - wire form of a dotted name ("" is the root).
bytes name(const std::string& dotted)
{
    bytes out;
    std::size_t start = 0;
    while (start < dotted.size()) {
        auto dot = dotted.find('.', start);
        if (dot == std::string::npos) dot = dotted.size();
        out.push_back(static_cast<std::uint8_t>(dot - start));
        out.insert(out.end(), dotted.begin() + start, dotted.begin() + dot);
        start = dot + 1;
    }
    out.push_back(0);
    return out;
}

bytes pointer(unsigned offset) { return {static_cast<std::uint8_t>(0xC0 | offset >> 8), static_cast<std::uint8_t>(offset & 0xff)}; }

// message - header + one question for example.com (at offset 12) with the given counts.
bytes message(unsigned an, unsigned ns, std::uint16_t qtype = rr_type_mx)
{
    bytes b;
    u16(b, 0x1234); u16(b, 0x8180); u16(b, 1); u16(b, an); u16(b, ns); u16(b, 0);
    auto q = name("example.com");
    b.insert(b.end(), q.begin(), q.end());
    u16(b, qtype); u16(b, 1);
    return b;
}

// rr - owner, type, class IN, ttl, rdata.
void rr(bytes& b, const bytes& owner, std::uint16_t type, std::uint32_t ttl, const bytes& rdata)
{
    b.insert(b.end(), owner.begin(), owner.end());
    u16(b, type); u16(b, 1); u32(b, ttl); u16(b, static_cast<unsigned>(rdata.size()));
    b.insert(b.end(), rdata.begin(), rdata.end());
}

bytes mx_rdata(unsigned pref, const bytes& host)
{
    bytes r;
    u16(r, pref);
    r.insert(r.end(), host.begin(), host.end());
    return r;
}

bytes soa_rdata(std::uint32_t minimum)
{
    bytes r = name("ns.example.com");
    auto rn = name("hostmaster.example.com");
    r.insert(r.end(), rn.begin(), rn.end());
    for (std::uint32_t v : {2026u, 3600u, 600u, 86400u}) u32(r, v);
    u32(r, minimum);
    return r;
}

std::optional<answer_ttls> read(const bytes& b) { return read_answer_ttls(b, rr_type_mx); }

// pointer_chain - two answers: a TXT record whose RDATA is a root label followed by pointers, each
//                 aimed at the one before, then an MX record whose owner name is a pointer to the
//                 last of them: reaching the root takes `jumps` pointers.
bytes pointer_chain(std::size_t jumps)
{
    bytes b;
    u16(b, 1); u16(b, 0x8180); u16(b, 0); u16(b, 2); u16(b, 0); u16(b, 0);
    bytes table{0};  // at offset 23: root label (owner "." at 12, then 10 octets of type..rdlength)
    for (std::size_t i = 1; i < jumps; ++i) {
        auto p = pointer(static_cast<unsigned>(23 + (i == 1 ? 0 : 1 + 2 * (i - 2))));
        table.insert(table.end(), p.begin(), p.end());
    }
    rr(b, bytes{0}, 16 /* TXT */, 60, table);
    const unsigned last = static_cast<unsigned>(jumps == 1 ? 23 : 23 + 1 + 2 * (jumps - 2));
    rr(b, pointer(last), rr_type_mx, 60, mx_rdata(10, pointer(12)));
    return b;
}

}  // namespace

TEST_CASE("answer TTL is the smallest MX TTL; compressed owners and hosts are followed")
{
    auto b = message(2, 0);
    rr(b, pointer(12), rr_type_mx, 300, mx_rdata(10, name("mx1.example.com")));
    rr(b, pointer(12), rr_type_mx, 120, mx_rdata(20, pointer(12)));
    auto t = read(b);
    REQUIRE(t);
    CHECK(t->answer == 120u);
    CHECK_FALSE(t->negative);
}

TEST_CASE("a CNAME in the chain bounds the answer; other types do not")
{
    auto b = message(3, 0);
    rr(b, pointer(12), rr_type_cname, 30, name("real.example.net"));
    rr(b, name("real.example.net"), rr_type_mx, 600, mx_rdata(10, name("mx.example.net")));
    rr(b, name("real.example.net"), 16 /* TXT */, 1, bytes{3, 'a', 'b', 'c'});
    auto t = read(b);
    REQUIRE(t);
    CHECK(t->answer == 30u);
}

TEST_CASE("a TTL with the top bit set counts as zero (RFC 2181 8)")
{
    auto b = message(1, 0);
    rr(b, pointer(12), rr_type_mx, 0x80000001u, mx_rdata(10, name("mx.example.com")));
    auto t = read(b);
    REQUIRE(t);
    CHECK(t->answer == 0u);
}

TEST_CASE("negative answers: min(SOA TTL, SOA MINIMUM) from the authority section (RFC 2308 5)")
{
    auto b = message(0, 1);
    rr(b, name("example.com"), rr_type_soa, 900, soa_rdata(300));
    auto t = read(b);
    REQUIRE(t);
    CHECK_FALSE(t->answer);
    CHECK(t->negative == 300u);

    auto c = message(0, 1);
    rr(c, pointer(12), rr_type_soa, 45, soa_rdata(3600));
    t = read(c);
    REQUIRE(t);
    CHECK(t->negative == 45u);

    auto none = message(0, 0);
    t = read(none);
    REQUIRE(t);
    CHECK_FALSE(t->answer);
    CHECK_FALSE(t->negative);
}

TEST_CASE("an SOA whose RDATA length disagrees with its names is malformed")
{
    auto b = message(0, 1);
    auto rd = soa_rdata(300);
    rd.push_back(0);  // one octet too many
    rr(b, name("example.com"), rr_type_soa, 900, rd);
    CHECK_FALSE(read(b));
}

TEST_CASE("every truncation of a valid message is malformed (never an overread)")
{
    auto b = message(2, 1);
    rr(b, pointer(12), rr_type_mx, 300, mx_rdata(10, name("mx1.example.com")));
    rr(b, pointer(12), rr_type_mx, 200, mx_rdata(20, name("mx2.example.com")));
    rr(b, name("example.com"), rr_type_soa, 900, soa_rdata(60));
    REQUIRE(read(b));
    for (std::size_t n = 0; n < b.size(); ++n) {
        bytes cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        INFO("length " << n);
        CHECK_FALSE(read(cut));  // counts promise more records than the bytes hold
    }
}

TEST_CASE("compression pointer loops, forward pointers and pointers past the end are malformed")
{
    SECTION("a pointer to itself")
    {
        auto b = message(1, 0);
        const unsigned at = static_cast<unsigned>(b.size());
        rr(b, pointer(at), rr_type_mx, 60, mx_rdata(10, name("mx.example.com")));
        CHECK_FALSE(read(b));
    }
    SECTION("a name whose pointer leads back to its own start")
    {
        bytes b;
        u16(b, 1); u16(b, 0x8180); u16(b, 1); u16(b, 0); u16(b, 0); u16(b, 0);
        b.insert(b.end(), {1, 'a', 0xC0, 12});  // "a" then back to "a": endless for a naive reader
        u16(b, rr_type_mx); u16(b, 1);
        CHECK_FALSE(read(b));
    }
    SECTION("two pointers aimed at each other")
    {
        bytes b;
        u16(b, 1); u16(b, 0x8180); u16(b, 1); u16(b, 0); u16(b, 0); u16(b, 0);
        b.insert(b.end(), {0xC0, 14, 0xC0, 12});  // 12 -> 14 -> 12 -> ...; the question name starts at 12
        u16(b, rr_type_mx); u16(b, 1);
        CHECK_FALSE(read(b));
    }
    SECTION("a forward pointer")
    {
        auto b = message(1, 0);
        const unsigned at = static_cast<unsigned>(b.size());
        rr(b, pointer(at + 40), rr_type_mx, 60, mx_rdata(10, name("mx.example.com")));
        CHECK_FALSE(read(b));
    }
    SECTION("a pointer past the end")
    {
        auto b = message(1, 0);
        rr(b, pointer(0x3fff), rr_type_mx, 60, mx_rdata(10, name("mx.example.com")));
        CHECK_FALSE(read(b));
    }
    SECTION("a chain of backward pointers: name_max_jumps is accepted, one more is not")
    {
        CHECK(read(pointer_chain(name_max_jumps)));
        CHECK_FALSE(read(pointer_chain(name_max_jumps + 1)));
    }
    SECTION("a name longer than 255 octets")
    {
        auto b = message(1, 0);
        bytes owner;
        for (int i = 0; i < 5; ++i) {
            owner.push_back(63);
            owner.insert(owner.end(), 63, 'x');
        }
        owner.push_back(0);
        rr(b, owner, rr_type_mx, 60, mx_rdata(10, name("mx.example.com")));
        CHECK_FALSE(read(b));
    }
    SECTION("extended label types (0x40, 0x80)")
    {
        auto b = message(1, 0);
        rr(b, bytes{0x41, 'x', 0}, rr_type_mx, 60, mx_rdata(10, name("mx.example.com")));
        CHECK_FALSE(read(b));
    }
}

TEST_CASE("absurd record counts are refused before any reading")
{
    // Well-formed records all the way: only the rr_max cap can refuse the larger message.
    auto records = [](std::size_t n) {
        auto b = message(static_cast<unsigned>(n), 0);
        for (std::size_t i = 0; i < n; ++i) rr(b, pointer(12), rr_type_mx, 300, mx_rdata(10, pointer(12)));
        return b;
    };
    CHECK(read(records(rr_max)));
    CHECK_FALSE(read(records(rr_max + 1)));
    CHECK_FALSE(read_answer_ttls({}, rr_type_mx));
}

TEST_CASE("clamp_ttl keeps a TTL within the cache bounds")
{
    CHECK(clamp_ttl(0, 5, 3600) == 5);
    CHECK(clamp_ttl(300, 5, 3600) == 300);
    CHECK(clamp_ttl(604800, 5, 3600) == 3600);
    CHECK(clamp_ttl(10, 30, 20) == 30);  // a bad configuration: the floor wins
}
