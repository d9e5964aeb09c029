// tests/unit/smtp/data_decoder_test.cpp: DATA end-of-data, unstuffing, smuggling
// variants and BDAT normalisation, each fed at every split point and byte by byte.
#include <string>
#include <vector>

#include "smtp/chunk_decoder.hpp"
#include "smtp/data_decoder.hpp"
#include "support/catch.hpp"
#include "unit/smtp/engine_driver.hpp"

using namespace postrider::smtp;

namespace {

struct decoded {
    bool done = false;
    std::string data;
    std::string rest;  // input after the end-of-data indicator
    bool operator==(const decoded&) const = default;
};

// decode - run pieces through a fresh decoder.
decoded decode(const std::vector<std::string_view>& pieces, std::uint64_t limit = 1 << 20)
{
    data_decoder d;
    message_sink sink;
    sink.reset(limit);
    d.start(true);
    decoded out;
    for (auto p : pieces) {
        if (out.done) {
            out.rest.append(p);
            continue;
        }
        out.done = d.consume(p, sink);
        out.rest.append(p);
    }
    out.data = sink.overflow() ? "<overflow>" : sink.take();
    return out;
}

// splits - the input whole, at every split point, and byte by byte.
std::vector<std::vector<std::string_view>> splits(std::string_view in)
{
    std::vector<std::vector<std::string_view>> all{{in}};
    for (std::size_t i = 0; i <= in.size(); ++i)
        all.push_back({in.substr(0, i), in.substr(i)});
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < in.size(); ++i)
        bytes.push_back(in.substr(i, 1));
    all.push_back(bytes);
    return all;
}

}  // namespace

TEST_CASE("data_decoder: end only at CRLF.CRLF; bare CR/LF stored as CRLF", "[data]")
{
    struct row {
        std::string name, in;
        decoded want;
    };
    using namespace std::string_literals;
    auto r = GENERATE(values<row>({
        {"plain", "a\r\nb\r\n.\r\nNEXT", {true, "a\r\nb\r\n", "NEXT"}},
        {"empty body", ".\r\n", {true, "", ""}},
        {"unstuffing", "..a\r\n.\r\n", {true, ".a\r\n", ""}},
        {"dot then space is data", ". \r\n.\r\n", {true, " \r\n", ""}},
        {"no end yet", "a\r\n.", {false, "a\r\n", ""}},
        {"LF.LF is not the end", "a\n.\nb\r\n.\r\n", {true, "a\r\n.\r\nb\r\n", ""}},
        {"LF.CRLF is not the end", "a\n.\r\nb\r\n.\r\n", {true, "a\r\n.\r\nb\r\n", ""}},
        {"CRLF.LF is not the end", "a\r\n.\nb\r\n.\r\n", {true, "a\r\n.\r\nb\r\n", ""}},
        {"CR.CRLF is not the end", "a\r.\r\nb\r\n.\r\n", {true, "a\r\n.\r\nb\r\n", ""}},
        {"CRLF.CR is not the end", "a\r\n.\rb\r\n.\r\n", {true, "a\r\n.\r\nb\r\n", ""}},
        {"CRLF.CRCRLF is not the end", "a\r\n.\r\r\n.\r\n", {true, "a\r\n.\r\n\r\n", ""}},
        {"bare CR at the very end waits", "a\r", {false, "a", ""}},
        {"NUL passes", "a\0b\r\n.\r\n"s, {true, "a\0b\r\n"s, ""}},
        {"long line kept whole", std::string(70000, 'x') + "\r\n.\r\n", {true, std::string(70000, 'x') + "\r\n", ""}},
    }));
    INFO("case " << r.name);
    for (const auto& pieces : splits(r.in)) {
        INFO("pieces " << pieces.size() << " first " << pieces.front().size());
        const auto got = decode(pieces);
        CHECK(got.done == r.want.done);
        CHECK(got.data == r.want.data);
        CHECK(got.rest == r.want.rest);
        if (got.done)
            CHECK(postrider::smtp::test::crlf_clean(got.data));
        if (r.in.size() > 1000)
            break;  // the long line: whole-input run only
    }
}

TEST_CASE("data_decoder: with the DATA line ended by a bare LF, a first '.' line is not the end", "[data]")
{
    data_decoder d;
    message_sink sink;
    sink.reset(100);
    d.start(false);
    std::string_view in = ".\r\nx\r\n.\r\n";
    CHECK(d.consume(in, sink));
    CHECK(sink.take() == ".\r\nx\r\n");  // the lone dot is content, kept
}

TEST_CASE("data_decoder: over the limit the body is read to its end and dropped", "[data]")
{
    const std::string body = std::string(100, 'x') + "\r\n.\r\nAFTER";
    for (const auto& pieces : splits(body)) {
        const auto got = decode(pieces, 50);
        CHECK(got.done);
        CHECK(got.data == "<overflow>");
        CHECK(got.rest == "AFTER");
    }
    const auto fits = decode({body}, 102);  // 100 + CRLF = 102: exactly the limit
    CHECK(fits.data == std::string(100, 'x') + "\r\n");
}

TEST_CASE("chunk_decoder: BDAT octets normalised to CRLF across chunk boundaries", "[bdat]")
{
    struct row {
        std::string name, in, want;
    };
    auto r = GENERATE(values<row>({
        {"crlf kept", "a\r\nb\r\n", "a\r\nb\r\n"},
        {"bare lf", "a\nb", "a\r\nb\r\n"},
        {"bare cr", "a\rb\r", "a\r\nb\r\n"},
        {"cr cr lf", "a\r\r\n", "a\r\n\r\n"},
        {"dots are data", ".\r\n..\r\n", ".\r\n..\r\n"},
        {"unterminated last line", "x", "x\r\n"},
        {"empty", "", ""},
        {"binary", std::string("\0\xff\r\x01", 4), std::string("\0\xff\r\n\x01\r\n", 7)},
    }));
    INFO("case " << r.name);
    for (const auto& pieces : splits(r.in)) {
        chunk_decoder c;
        message_sink sink;
        sink.reset(1000);
        for (auto p : pieces)
            c.consume(p, sink);
        c.finish(sink);
        const auto got = sink.take();
        CHECK(got == r.want);
        CHECK(postrider::smtp::test::crlf_clean(got));
    }
}

TEST_CASE("data_decoder: long runs with CR, LF and NUL at every offset of a word", "[data]")
{
    // copy_run skips eight octets at a time: put each special octet at each position of a
    // word, after runs of every length, and compare with what the rules give octet by octet.
    for (char special : {'\r', '\n', '\0'}) {
        for (std::size_t run = 0; run < 40; ++run) {
            std::string in = std::string(run, 'x') + special + std::string(run % 11, 'y') + "\r\n.\r\n";
            std::string want = std::string(run, 'x');
            if (special == '\0') want += std::string(1, '\0') + std::string(run % 11, 'y') + "\r\n";
            else want += "\r\n" + std::string(run % 11, 'y') + "\r\n";  // bare CR or LF stored as CRLF
            for (const auto& pieces : splits(in)) {
                data_decoder d;
                message_sink sink;
                sink.reset(1 << 20);
                d.start(true);
                bool done = false;
                for (auto p : pieces)
                    if (!done) done = d.consume(p, sink);
                INFO("special " << int(special) << " after " << run << " octets");
                CHECK(done);
                CHECK(sink.take() == want);
                CHECK(d.nul_octets() == (special == '\0' ? 1u : 0u));
                CHECK(d.bare_line_ends() == (special == '\0' ? 0u : 1u));
            }
        }
    }
}
