// tests/unit/sendmail/input_test.cpp: stdin framing and the bad-input refusals, split at every offset.
#include "support/catch.hpp"

#include "sendmail/input.hpp"

using namespace postrider::sendmail;

namespace {
struct outcome {
    input_error error;
    std::string data;
    std::size_t line;
};

// run_split - feed in two pieces split at `at`, as read() may return them.
outcome run_split(std::string_view in, std::size_t at, bool dot = true, std::uint64_t max = 0)
{
    input_reader r(dot, max);
    if (r.feed(in.substr(0, at))) r.feed(in.substr(at));
    r.finish();
    return {r.error(), r.error() == input_error::none ? r.take() : std::string{}, r.error_line()};
}

// run_all_splits - every split gives the same outcome; returns it.
outcome run_all_splits(std::string_view in, bool dot = true, std::uint64_t max = 0)
{
    auto first = run_split(in, 0, dot, max);
    for (std::size_t at = 1; at <= in.size(); ++at) {
        auto o = run_split(in, at, dot, max);
        INFO("split at " << at);
        CHECK(o.error == first.error);
        CHECK(o.data == first.data);
    }
    return first;
}
}  // namespace

TEST_CASE("input: LF and CRLF lines become CRLF; a missing final newline is added")
{
    CHECK(run_all_splits("Subject: a\n\nbody\n").data == "Subject: a\r\n\r\nbody\r\n");
    CHECK(run_all_splits("Subject: a\r\n\r\nbody\r\n").data == "Subject: a\r\n\r\nbody\r\n");
    CHECK(run_all_splits("Subject: a\n\nno newline").data == "Subject: a\r\n\r\nno newline\r\n");
}

TEST_CASE("input: a lone dot ends the message unless -i")
{
    CHECK(run_all_splits("a\n.\nafter\n").data == "a\r\n");
    CHECK(run_all_splits("a\r\n.\r\nafter\n").data == "a\r\n");
    CHECK(run_all_splits("a\n..\n.x\n").data == "a\r\n..\r\n.x\r\n");  // no unstuffing outside SMTP
    CHECK(run_all_splits("a\n.\nafter\n", false).data == "a\r\n.\r\nafter\r\n");
    CHECK(run_all_splits("a\n.", true).data == "a\r\n");  // final dot without newline still ends
}

TEST_CASE("input: bad input is refused with the line number")
{
    CHECK(run_all_splits("").error == input_error::empty);
    CHECK(run_all_splits(".\n").error == input_error::empty);
    auto nul = run_all_splits(std::string("a\nb\0c\n", 6));
    CHECK(nul.error == input_error::nul_byte);
    CHECK(nul.line == 2);
    CHECK(run_all_splits("a\rb\n").error == input_error::bare_cr);
    CHECK(run_all_splits("a\r").error == input_error::bare_cr);
    std::string ok998(998, 'x'), bad999(999, 'x');
    CHECK(run_split(ok998 + "\n", 500).error == input_error::none);
    auto longline = run_split("short\n" + bad999 + "\n", 3);
    CHECK(longline.error == input_error::line_too_long);
    CHECK(longline.line == 2);
    CHECK(run_split("abc\ndef\n", 2, true, 5).error == input_error::too_large);
    CHECK(describe(input_error::line_too_long, 2).find("line 2") != std::string::npos);
}

TEST_CASE("input: 8-bit octets are noticed")
{
    input_reader r(true, 0);
    r.feed("Subject: x\n\nj\xc3\xb6rg\n");
    r.finish();
    CHECK(r.eight_bit());
}
