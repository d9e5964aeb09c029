#include "support/catch.hpp"

#include "outbound/reply_parser.hpp"

#include <string>
#include <vector>

using namespace postrider::outbound;

namespace {

// parse_split - feed input in two pieces split at `at`; return every reply and the error.
std::pair<std::vector<remote_reply>, reply_error> parse_split(const std::string& in, std::size_t at)
{
    reply_parser p;
    p.feed(std::string_view(in).substr(0, at));
    p.feed(std::string_view(in).substr(at));
    std::vector<remote_reply> out;
    while (auto r = p.next()) out.push_back(std::move(*r));
    return {out, p.error()};
}

}  // namespace

TEST_CASE("reply parser: single, multiline and pipelined replies, split at every byte offset")
{
    const std::string in = "220 mx.example ESMTP\r\n"
                           "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"
                           "550 5.1.1 <x@y>: no such user\r\n"
                           "451 try later\n";  // bare LF accepted
    for (std::size_t at = 0; at <= in.size(); ++at) {
        INFO("split at " << at);
        auto [got, err] = parse_split(in, at);
        CHECK(err == reply_error::none);
        REQUIRE(got.size() == 4);
        CHECK(got[0].code == 220);
        CHECK(got[0].lines == std::vector<std::string>{"mx.example ESMTP"});
        CHECK(got[1].code == 250);
        CHECK(got[1].lines.size() == 3);
        CHECK(got[1].lines[2] == "SIZE 1000");
        CHECK(got[2].code == 550);
        CHECK(got[2].status == "5.1.1");
        CHECK(got[2].lines[0] == "<x@y>: no such user");
        CHECK(got[2].permanent());
        CHECK(got[3].temporary());
        CHECK(got[3].status.empty());
    }
}

TEST_CASE("reply parser: protocol errors")
{
    struct row {
        std::string in;
        reply_error want;
    };
    std::vector<row> rows = {
        {"hello\r\n", reply_error::syntax},
        {"2500 x\r\n", reply_error::syntax},
        {"650 bad class\r\n", reply_error::syntax},
        {"260 bad second digit\r\n", reply_error::syntax},
        {"250-a\r\n251 b\r\n", reply_error::mixed_codes},
        {"250 " + std::string(reply_line_octets, 'x') + "\r\n", reply_error::line_too_long},
        {"250" + std::string(reply_line_octets * 2, 'x'), reply_error::line_too_long},  // never a CRLF
    };
    std::string many;
    for (std::size_t i = 0; i < reply_max_lines + 1; ++i) many += "250-x\r\n";
    rows.push_back({many, reply_error::too_many_lines});
    std::string big;
    for (int i = 0; i < 40; ++i) big += "250-" + std::string(2000, 'y') + "\r\n";
    rows.push_back({big, reply_error::too_large});
    for (const auto& r : rows) {
        INFO("input starts " << r.in.substr(0, 20));
        reply_parser p;
        p.feed(r.in);
        CHECK(p.error() == r.want);
        CHECK_FALSE(p.next().has_value());
    }
}

TEST_CASE("reply parser: a code alone is a complete reply")
{
    reply_parser p;
    p.feed("250\r\n");
    auto r = p.next();
    REQUIRE(r);
    CHECK(r->code == 250);
    CHECK(r->lines == std::vector<std::string>{""});
}

TEST_CASE("diagnostic escapes remote text and caps it")
{
    reply_parser p;
    p.feed("550-5.7.1 evil\x01 \"quoted\"\r\n550 second " + std::string(1000, 'z') + "\r\n");
    auto r = p.next();
    REQUIRE(r);
    auto d = r->diagnostic();
    CHECK(d.rfind("550 5.7.1 evil\\x01 \\\"quoted\\\"; second", 0) == 0);
    CHECK(d.size() <= 300);
    CHECK(d.find('\r') == std::string::npos);
}

TEST_CASE("enhanced status must match the reply class")
{
    CHECK(parse_enhanced_status("5.1.1 x", 550)->first == "5.1.1");
    CHECK_FALSE(parse_enhanced_status("4.1.1 x", 550));
    CHECK_FALSE(parse_enhanced_status("5.1111.1 x", 550));
    CHECK_FALSE(parse_enhanced_status("5.1.1x", 550));
    CHECK(parse_enhanced_status("2.0.0", 250)->second.empty());
}
