#include "support/catch.hpp"

#include "core/log_format.hpp"

#include <string>

using namespace postrider::core;
using std::chrono::microseconds;

TEST_CASE("json_string escapes what JSON requires and keeps valid UTF-8", "[log_format]")
{
    struct row { std::string in, want; };
    auto r = GENERATE(values<row>({
        {"plain text", "plain text"},
        {"q\"b\\s", "q\\\"b\\\\s"},
        {"a\r\nb\tc", "a\\r\\nb\\tc"},
        {std::string("nul\0x", 5), "nul\\u0000x"},
        {"\x1b[31m\x7f", "\\u001b[31m\\u007f"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"},
        {"bad \xff end", "bad \\ufffd end"},
        {"overlong \xc0\xaf", "overlong \\ufffd\\ufffd"},
        {"surrogate \xed\xa0\x80", "surrogate \\ufffd\\ufffd\\ufffd"},
        {"cut \xe2\x82", "cut \\ufffd\\ufffd"},
        {"too big \xf4\x90\x80\x80", "too big \\ufffd\\ufffd\\ufffd\\ufffd"},
    }));
    INFO("input " << r.in);
    CHECK(json_string(r.in) == r.want);
}

TEST_CASE("json_fields splits a leading id token from the message", "[log_format]")
{
    CHECK(json_fields("4XyZ12ab: to=<a@b>, status=sent") == R"("id":"4XyZ12ab","msg":"to=<a@b>, status=sent")");
    CHECK(json_fields("Sab-12: connect from [127.0.0.1]:5") == R"("id":"Sab-12","msg":"connect from [127.0.0.1]:5")");
    CHECK(json_fields("postrider started x=1") == R"("msg":"postrider started x=1")");
    CHECK(json_fields("two words: no id") == R"("msg":"two words: no id")");
    CHECK(json_fields(": empty id") == R"("msg":": empty id")");
    CHECK(json_fields("") == R"("msg":"")");
}

TEST_CASE("logfmt_value quotes values that would break key=value parsing", "[log_format]")
{
    CHECK(logfmt_value("mx.example.org") == "mx.example.org");
    CHECK(logfmt_value("") == "\"\"");
    CHECK(logfmt_value("two words") == "\"two words\"");
    CHECK(logfmt_value("a=b") == "\"a=b\"");
    CHECK(logfmt_value("say \"hi\"\r\n") == "\"say \\\"hi\\\"\\r\\n\"");
    CHECK(logfmt_value("\xff") == "\"\\xff\"");
    CHECK(logfmt_value(std::string(300, 'x'), 8) == "\"xxxxxxxx...\"");
    // At the cap: max octets stay bare, one more is quoted and cut to max octets + "...".
    CHECK(logfmt_value(std::string(8, 'x'), 8) == "xxxxxxxx");
    CHECK(logfmt_value(std::string(9, 'x'), 8) == "\"xxxxxxxx...\"");
    // The cap counts escaped octets: no escape sequence is split, the value stays one token.
    CHECK(logfmt_value(std::string(5, '"'), 8) == "\"\\\"\\\"\\\"\\\"...\"");
}

TEST_CASE("cap_line bounds a line without splitting a UTF-8 sequence", "[log_format]")
{
    CHECK(cap_line("short", 100) == "short");
    CHECK(cap_line(std::string(100, 'a'), 100) == std::string(100, 'a'));
    auto cut = cap_line(std::string(101, 'a'), 100);
    CHECK(cut.size() == 100);
    CHECK(cut.ends_with("...[truncated]"));
    // 30 two-octet characters: the cut must land on a character boundary.
    std::string e;
    for (int i = 0; i < 30; ++i) e += "\xc3\xa9";
    auto u = cap_line(e, 25);  // 25 - 14 = 11 octets kept would split; 10 are kept
    CHECK(u == e.substr(0, 10) + "...[truncated]");
}

TEST_CASE("seconds_text prints delays like Postfix", "[log_format]")
{
    CHECK(seconds_text(microseconds(0)) == "0");
    CHECK(seconds_text(microseconds(-5)) == "0");
    CHECK(seconds_text(microseconds(4999)) == "0");
    CHECK(seconds_text(microseconds(5000)) == "0.01");
    CHECK(seconds_text(microseconds(50000)) == "0.05");
    CHECK(seconds_text(microseconds(500000)) == "0.5");
    CHECK(seconds_text(microseconds(1234567)) == "1.23");
    CHECK(seconds_text(microseconds(17000000)) == "17");
    CHECK(seconds_text(microseconds(86400LL * 5 * 1000000)) == "432000");
}
