// tests/fuzz/fuzz_reply_parser.cpp: libFuzzer target for outbound::reply_parser (replies from remote MXes).
//
// Trust: the input plays an arbitrary remote server (STYLE.md B.8 rule 5: fuzz the
//        reply parser as hard as the command parser).
// Checks: the parser's limits hold for every reply it returns; diagnostic() is
//         escaped and capped; and the result does not depend on how the bytes
//         were split into reads (the first input byte picks the split point).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "outbound/reply_parser.hpp"

using namespace postrider;
using outbound::remote_reply;
using outbound::reply_error;
using outbound::reply_parser;

namespace {

struct parsed {
    std::vector<remote_reply> replies;
    reply_error error = reply_error::none;
};

// drain - every complete reply the parser holds.
void drain(reply_parser& p, parsed& out)
{
    while (auto r = p.next()) out.replies.push_back(std::move(*r));
}

// parse_split - feed bytes in two reads at split, taking replies after each read (as the client does).
parsed parse_split(std::string_view bytes, std::size_t split)
{
    reply_parser p;
    parsed out;
    p.feed(bytes.substr(0, split));
    drain(p, out);
    p.feed(bytes.substr(split));
    drain(p, out);
    out.error = p.error();
    return out;
}

// check_reply - the invariants every returned reply must satisfy.
void check_reply(const remote_reply& r)
{
    fuzz::require(r.code >= 200 && r.code <= 559 && (r.code / 10) % 10 <= 5, "code in RFC 5321 4.2 range");
    fuzz::require(!r.lines.empty() && r.lines.size() <= outbound::reply_max_lines, "line count bounded");
    std::size_t octets = 0;
    for (const auto& l : r.lines) {
        fuzz::require(l.size() <= outbound::reply_line_octets, "line length bounded");
        octets += l.size();
    }
    fuzz::require(octets <= outbound::reply_max_octets, "reply size bounded");
    fuzz::require(r.status.empty() || r.status[0] - '0' == r.code / 100, "enhanced status class matches code");
    const std::string d = r.diagnostic();
    fuzz::require(fuzz::no_controls(d), "diagnostic has no control bytes");
    fuzz::require(d.size() <= 1024, "diagnostic is capped");
    fuzz::require(r.positive() + r.temporary() + r.permanent() == 1, "exactly one reply class");
}

// same - two parses agree reply for reply.
bool same(const parsed& a, const parsed& b)
{
    if (a.error != b.error || a.replies.size() != b.replies.size()) return false;
    for (std::size_t i = 0; i < a.replies.size(); ++i) {
        const auto &x = a.replies[i], &y = b.replies[i];
        if (x.code != y.code || x.status != y.status || x.lines != y.lines) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t split = bytes.empty() ? 0 : data[0] % (bytes.size() + 1);
    const parsed whole = parse_split(bytes, bytes.size());
    const parsed split_parse = parse_split(bytes, split);
    for (const auto& r : whole.replies) check_reply(r);
    fuzz::require(same(whole, split_parse), "result independent of read boundaries");
    return 0;
}
