// tests/unit/smtp/command_test.cpp: command classification and fixed-shape arguments.
#include "smtp/command.hpp"
#include "support/catch.hpp"

using namespace postrider::smtp;

TEST_CASE("parse_command: verbs are case-insensitive; unknown and unimplemented are told apart", "[command]")
{
    struct row {
        std::string line;
        verb want;
        std::string arg;
    };
    auto r = GENERATE(values<row>({
        {"EHLO mx.example", verb::ehlo, "mx.example"},
        {"ehlo mx.example  ", verb::ehlo, "mx.example"},
        {"HeLo x", verb::helo, "x"},
        {"MAIL FROM:<a@b>", verb::mail, "FROM:<a@b>"},
        {"rcpt   TO:<a@b>", verb::rcpt, "TO:<a@b>"},
        {"DATA", verb::data, ""},
        {"BDAT 10 LAST", verb::bdat, "10 LAST"},
        {"RSET", verb::rset, ""}, {"NOOP x", verb::noop, "x"}, {"QUIT", verb::quit, ""},
        {"VRFY u", verb::vrfy, "u"}, {"EXPN l", verb::expn, "l"}, {"HELP", verb::help, ""},
        {"STARTTLS", verb::starttls, ""}, {"AUTH PLAIN", verb::auth, "PLAIN"},
        {"TURN", verb::not_implemented, ""}, {"etrn x", verb::not_implemented, "x"},
        {"MAILX FROM:<a@b>", verb::unknown, "FROM:<a@b>"},
        {"GET / HTTP/1.0", verb::unknown, "/ HTTP/1.0"},
        {" MAIL FROM:<a@b>", verb::unknown, "MAIL FROM:<a@b>"},
        {"", verb::empty, ""}, {"   ", verb::empty, ""},
    }));
    INFO("line \"" << r.line << "\"");
    const auto got = parse_command(r.line);
    CHECK(got.kind == r.want);
    CHECK(got.arg == r.arg);
}

TEST_CASE("split_path_argument finds the path (quote-aware) and the parameters", "[command]")
{
    struct row {
        std::string arg;
        bool ok;
        std::string path, params;
    };
    auto r = GENERATE(values<row>({
        {"FROM:<a@b>", true, "<a@b>", ""},
        {"from:<a@b> SIZE=1 BODY=8BITMIME", true, "<a@b>", "SIZE=1 BODY=8BITMIME"},
        {"FROM: <a@b>", true, "<a@b>", ""},
        {"FROM:<>", true, "<>", ""},
        {"FROM:<\"a>b\"@c>", true, "<\"a>b\"@c>", ""},
        {"FROM:<\"a\\\">\"@c> X", true, "<\"a\\\">\"@c>", "X"},
        {"FROM:<a@b>X", false, "", ""},
        {"FROM:a@b", false, "", ""},
        {"FROM:<a@b", false, "", ""},
        {"FRM:<a@b>", false, "", ""},
        {"", false, "", ""},
    }));
    INFO("arg " << r.arg);
    const auto got = split_path_argument(r.arg, "FROM:");
    CHECK(got.ok == r.ok);
    CHECK(got.path == r.path);
    CHECK(got.params == r.params);
}

TEST_CASE("parse_bdat: size, LAST, and when the size alone is usable", "[command]")
{
    struct row {
        std::string arg;
        bool count_ok, syntax_ok;
        std::uint64_t count;
        bool last;
    };
    auto r = GENERATE(values<row>({
        {"10", true, true, 10, false},
        {"0 LAST", true, true, 0, true},
        {"5 last", true, true, 5, true},
        {"18446744073709551615", true, true, UINT64_MAX, false},
        {"18446744073709551616", false, false, 0, false},
        {"5 LASTX", true, false, 5, false},
        {"-1", false, false, 0, false},
        {"", false, false, 0, false},
        {"1x LAST", false, false, 0, false},
    }));
    INFO("arg " << r.arg);
    const auto got = parse_bdat(r.arg);
    CHECK(got.count_ok == r.count_ok);
    CHECK(got.syntax_ok == r.syntax_ok);
    if (r.count_ok)
        CHECK(got.count == r.count);
    CHECK(got.last == r.last);
}
