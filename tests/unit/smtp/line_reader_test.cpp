// tests/unit/smtp/line_reader_test.cpp: command line framing, at every split point.
#include <string>
#include <vector>

#include "smtp/line_reader.hpp"
#include "support/catch.hpp"

using postrider::smtp::line_reader;

namespace {

// frame - feed pieces, return each event as "text", "<too long>", or "text<bare>".
std::vector<std::string> frame(const std::vector<std::string_view>& pieces, std::size_t max)
{
    line_reader r(max);
    std::vector<std::string> out;
    for (auto p : pieces) {
        while (!p.empty()) {
            auto l = r.next(p);
            if (!l)
                break;
            out.push_back(l->too_long ? "<too long>" : std::string(l->text) + (l->bare_lf ? "<bare>" : ""));
        }
        CHECK(r.buffered() < max);
    }
    return out;
}

}  // namespace

TEST_CASE("line_reader frames lines identically at every split point", "[line_reader]")
{
    struct row {
        std::string name, in;
        std::vector<std::string> want;
    };
    const std::string l10(8, 'a');  // 8 + CRLF = 10 octets: exactly the limit below
    auto r = GENERATE_COPY(values<row>({
        {"crlf lines", "HELO x\r\nNOOP\r\n", {"HELO x", "NOOP"}},
        {"bare lf ends a line, flagged", "NOOP\nRSET\r\n", {"NOOP<bare>", "RSET"}},
        {"bare cr stays in the text", "NO\rOP\r\n", {"NO\rOP"}},
        {"empty lines", "\r\n\n", {"", "<bare>"}},
        {"no terminator: nothing yet", "NOOP", {}},
        {"exactly the limit", l10 + "\r\n", {l10}},
        {"one over the limit", l10 + "a\r\nok\r\n", {"<too long>", "ok"}},
        {"bare lf counts two octets too", l10 + "a\nok\r\n", {"<too long>", "ok"}},
        {"far over the limit, discarded to LF", std::string(100, 'x') + "\r\nok\r\n", {"<too long>", "ok"}},
        {"NUL is kept for the engine to refuse", std::string("a\0b\r\n", 5), {std::string("a\0b", 3)}},
    }));
    INFO("case " << r.name);
    const auto want = r.want;
    CHECK(frame({r.in}, 10) == want);
    for (std::size_t i = 0; i <= r.in.size(); ++i) {
        INFO("split at " << i);
        const std::string_view in = r.in;
        CHECK(frame({in.substr(0, i), in.substr(i)}, 10) == want);
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < r.in.size(); ++i)
        bytes.push_back(std::string_view(r.in).substr(i, 1));
    CHECK(frame(bytes, 10) == want);
}

TEST_CASE("line_reader never buffers past the limit", "[line_reader]")
{
    line_reader r(512);
    const std::string chunk(65536, 'z');
    for (int i = 0; i < 160; ++i) {  // 10 MiB without a line end
        std::string_view in = chunk;
        CHECK_FALSE(r.next(in).has_value());
        CHECK(in.empty());
        CHECK(r.buffered() <= 511);
    }
    std::string_view end = "\r\nNOOP\r\n";
    auto l = r.next(end);
    REQUIRE(l);
    CHECK(l->too_long);
    l = r.next(end);
    REQUIRE(l);
    CHECK(l->text == "NOOP");
    CHECK(r.buffered() == 0);
}
