// tests/unit/sendmail/drop_test.cpp: maildrop codec and validation of maildrop files as untrusted input.
#include "support/catch.hpp"

#include "control/protocol.hpp"
#include "pickup/drop_format.hpp"
#include "pickup/validate.hpp"
#include "queue/record.hpp"

using namespace postrider::pickup;

namespace {
dropped_message sample()
{
    dropped_message m;
    m.sender = "joe@example.org";
    m.recipients = {{"alice@localhost", 0}, {"bob@localhost", 6}};
    m.body_8bit = true;
    m.protocol = "local";
    m.content = "Subject: x\r\n\r\nbody\r\n";
    return m;
}
const drop_origin origin{"mx.test", "1K120R34C8PAGYR6", 1000, 1736240703};
}  // namespace

TEST_CASE("drop: round trip")
{
    auto m = sample();
    m.verp = true;
    m.verp_delimiters = "-=";
    m.envid = "E1";
    auto d = decode_drop(encode_drop(m));
    REQUIRE(d.message);
    CHECK(*d.message == m);
}

TEST_CASE("drop: version 1 files (no VERP delimiters) are still read and use the configured ones")
{
    auto m = sample();
    m.verp = true;
    auto v2 = encode_drop(m);
    // v1 = the same payload without the last field (an empty str: 4 octets), fresh length and CRC.
    std::string payload = v2.substr(drop_head_octets, v2.size() - drop_head_octets - drop_tail_octets - 4);
    std::string v1 = v2.substr(0, 4) + std::string("\x01\x00", 2);
    for (int i = 0; i < 4; ++i) v1 += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
    v1 += payload;
    const auto crc = postrider::queue::crc32(v1);
    for (int i = 0; i < 4; ++i) v1 += static_cast<char>((crc >> (8 * i)) & 0xff);
    auto d = decode_drop(v1);
    REQUIRE(d.message);
    CHECK(d.message->verp);
    CHECK(d.message->verp_delimiters.empty());
    drop_limits limits{1000000, 10, "-="};
    auto v = validate_drop(*d.message, limits, origin);
    REQUIRE(v.message);
    CHECK(v.message->verp_delimiters == "-=");
    m.verp_delimiters = "++";
    CHECK(validate_drop(m, limits, origin).message->verp_delimiters == "++");
    m.verp = false;
    m.verp_delimiters.clear();
    CHECK(validate_drop(m, limits, origin).message->verp_delimiters.empty());
}

TEST_CASE("drop: every truncation and every flipped byte is refused, never misread")
{
    const auto bytes = encode_drop(sample());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        INFO("truncated to " << n);
        CHECK_FALSE(decode_drop(bytes.substr(0, n)).message);
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ 0x41);
        INFO("flipped byte " << i);
        CHECK_FALSE(decode_drop(bad).message);
    }
    CHECK_FALSE(decode_drop(bytes + "x").message);
    CHECK(decode_drop("garbage").error.find("magic") != std::string::npos);
}

TEST_CASE("validate: a good drop becomes a submission with our trace header")
{
    auto v = validate_drop(sample(), {1000, 10}, origin);
    REQUIRE(v.message);
    CHECK(v.message->sender == "joe@example.org");
    REQUIRE(v.message->recipients.size() == 2);
    CHECK(v.message->recipients[1].notify == 6);
    CHECK(v.message->trace == "Received: by mx.test (postrider, from userid 1000)\r\n\tid 1K120R34C8PAGYR6; Tue, 07 Jan 2025 09:05:03 +0000\r\n");
    CHECK(v.message->content.rfind("Subject: x\r\n\r\nbody\r\n", 0) == 0);
    CHECK(v.message->body_8bit);
}

TEST_CASE("validate: host hiding leaves HELO and uid out of the trace header")
{
    auto m = sample();
    m.protocol = "ESMTP";
    m.helo = "laptop.internal.example";
    auto hidden = origin;
    hidden.hide_client = true;
    auto v = validate_drop(m, {1000, 10}, hidden);
    REQUIRE(v.message);
    CHECK(v.message->trace ==
          "Received: by mx.test (postrider)\r\n\twith ESMTP id 1K120R34C8PAGYR6; Tue, 07 Jan 2025 09:05:03 +0000\r\n");
    auto shown = validate_drop(m, {1000, 10}, origin);
    REQUIRE(shown.message);
    CHECK(shown.message->trace.rfind("Received: from laptop.internal.example by mx.test (postrider, from userid 1000)", 0) == 0);
}

TEST_CASE("masquerade_drop: envelope sender and header section, body untouched and not copied")
{
    postrider::core::masquerade_rules r;
    r.domains = {"example.org"};
    r.exceptions = {"root"};
    auto m = sample();
    m.sender = "joe@host.example.org";
    m.content = "From: Joe <joe@host.example.org>\r\nSubject: x\r\n\r\nFrom: body@host.example.org\r\n";
    auto v = validate_drop(m, {1000, 10}, origin);
    REQUIRE(v.message);
    const std::string trace = v.message->trace;
    const auto* body_before = v.message->content.data();
    masquerade_drop(*v.message, r);
    CHECK(v.message->sender == "joe@example.org");
    CHECK(v.message->trace == trace + "From: Joe <joe@example.org>\r\nSubject: x\r\n");
    CHECK(v.message->content.data() == body_before);  // the content was not moved or copied
    CHECK(v.message->content.substr(v.message->content_skip) == "\r\nFrom: body@host.example.org\r\n");

    m.sender = "root@host.example.org";  // exception: neither envelope nor header
    m.content = "From: root@host.example.org\r\n\r\nx\r\n";
    auto e = validate_drop(m, {1000, 10}, origin);
    REQUIRE(e.message);
    masquerade_drop(*e.message, r);
    CHECK(e.message->sender == "root@host.example.org");
    CHECK(e.message->content_skip == 0);

    r.classes = postrider::core::masq_header_sender;  // header only
    m.sender = "joe@host.example.org";
    m.content = "From: joe@host.example.org\r\n\r\nx\r\n";
    auto h = validate_drop(m, {1000, 10}, origin);
    REQUIRE(h.message);
    masquerade_drop(*h.message, r);
    CHECK(h.message->sender == "joe@host.example.org");
    CHECK(h.message->content_skip == std::string_view("From: joe@host.example.org\r\n").size());
}

TEST_CASE("validate: untrusted drops that break a rule are refused with a reason")
{
    struct row { const char* why; void (*mutate)(dropped_message&); const char* want; };
    const std::vector<row> rows = {
        {"bad sender", [](dropped_message& m) { m.sender = "a b@c"; }, "invalid sender"},
        {"bad recipient", [](dropped_message& m) { m.recipients[0].address = "x@-bad-"; }, "invalid recipient"},
        {"path in recipient", [](dropped_message& m) { m.recipients[0].address = "../../etc/passwd"; }, "invalid recipient"},
        {"no recipients", [](dropped_message& m) { m.recipients.clear(); }, "no recipients"},
        {"NUL", [](dropped_message& m) { m.content = std::string("a\0b\r\n", 5); }, "NUL"},
        {"bare LF", [](dropped_message& m) { m.content = "a\nb\r\n"; }, "bare LF"},
        {"bare CR", [](dropped_message& m) { m.content = "a\rb\r\n"; }, "bare CR"},
        {"unterminated", [](dropped_message& m) { m.content = "a\r\nb"; }, "not terminated"},
        {"empty", [](dropped_message& m) { m.content.clear(); }, "empty"},
        {"long line", [](dropped_message& m) { m.content = std::string(70000, 'x') + "\r\n"; }, "line too long"},
        {"protocol", [](dropped_message& m) { m.protocol = "HTTP"; }, "protocol"},
        {"helo", [](dropped_message& m) { m.helo = "bad helo\r\n"; }, "HELO"},
        {"notify", [](dropped_message& m) { m.recipients[0].notify = 99; }, "NOTIFY"},
        {"VERP delimiters", [](dropped_message& m) { m.verp = true; m.verp_delimiters = "+@"; }, "VERP delimiters"},
        {"delimiters without VERP", [](dropped_message& m) { m.verp_delimiters = "+="; }, "without the VERP flag"},
    };
    for (const auto& r : rows) {
        INFO(r.why);
        auto m = sample();
        r.mutate(m);
        auto v = validate_drop(m, {1000000, 10}, origin);
        CHECK_FALSE(v.message);
        CHECK(v.error.find(r.want) != std::string::npos);
    }
    auto m = sample();
    CHECK(validate_drop(m, {10, 10}, origin).error.find("message_size_limit") != std::string::npos);
    CHECK(validate_drop(m, {0, 1}, origin).error.find("recipient_limit") != std::string::npos);
}

TEST_CASE("control protocol: allow-listed requests only")
{
    using namespace postrider::control;
    CHECK(parse_request("flush")->what == verb::flush);
    CHECK(parse_request("ping\r")->what == verb::ping);
    auto d = parse_request("delete 1K120R34C8PAGYR6");
    REQUIRE(d);
    CHECK(d->id == "1K120R34C8PAGYR6");
    CHECK_FALSE(parse_request("delete ../../etc/passwd"));
    CHECK_FALSE(parse_request("delete 1K120R34C8PAGYR6 extra"));
    CHECK_FALSE(parse_request("FLUSH"));
    CHECK_FALSE(parse_request(std::string(300, 'f')));
    CHECK(format_request(*d) == "delete 1K120R34C8PAGYR6\n");
    auto rq = parse_request("requeue 1K120R34C8PAGYR6");
    REQUIRE(rq);
    CHECK(rq->what == verb::requeue);
    CHECK(format_request(*rq) == "requeue 1K120R34C8PAGYR6\n");
    auto all = parse_request("requeue all");
    REQUIRE(all);
    CHECK(all->id.empty());
    CHECK(format_request(*all) == "requeue all\n");
    CHECK_FALSE(parse_request("requeue"));
    CHECK_FALSE(parse_request("requeue ALL"));
    CHECK_FALSE(parse_request("requeue ../x"));
    CHECK(reply_error("bad\r\nline") == "error bad??line\n");
    CHECK(reply_ok() == "ok\n");
}
