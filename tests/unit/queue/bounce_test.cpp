#include "support/catch.hpp"

#include "queue/bounce.hpp"

#include <fstream>
#include <iterator>

using namespace postrider::queue;

namespace {

const std::string original =
    "Received: from client.example (127.0.0.1)\r\n"
    "From: alice@example.org\r\n"
    "Subject: hello\r\n"
    "\r\n"
    "body line 1\r\n"
    "body line 2\r\n";

bounce_input sample()
{
    bounce_input in;
    in.hostname = "mx.example.org";
    in.queue_id = "1GA4GC1WG0000000";
    in.original_sender = "alice@example.org";
    in.envid = "ENV-42";
    in.arrival_unix = 1700000000;
    in.now_unix = 1700003600;
    in.message_id = "1GA4GC1WG0000001@mx.example.org";
    in.recipients = {{"bob@example.org", "rfc822;Bob@Example.org", "5.1.1", "unknown user"},
                     {"carol@example.net", "", "4.4.7", "delivery time expired; last error: remote delivery not yet available"}};
    in.original = original;
    return in;
}

std::string read_golden(const char* name)
{
    std::ifstream in(std::string(POSTRIDER_TEST_SRCDIR) + "/golden/" + name, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("rfc5322_date formats UTC dates", "[bounce]")
{
    CHECK(rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
    CHECK(rfc5322_date(1700000000) == "Tue, 14 Nov 2023 22:13:20 +0000");
    CHECK(rfc5322_date(951782400) == "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST_CASE("header_section stops at the empty line", "[bounce]")
{
    CHECK(header_section(original) == "Received: from client.example (127.0.0.1)\r\nFrom: alice@example.org\r\nSubject: hello\r\n");
    CHECK(header_section("\r\nbody") == "");
    CHECK(header_section("No-Body: x\r\n") == "No-Body: x\r\n");
}

TEST_CASE("DSN golden file: headers only (RET=HDRS)", "[bounce]")
{
    CHECK(compose_bounce(sample()) == read_golden("bounce_hdrs.ref"));
}

TEST_CASE("RET=FULL attaches the whole message as message/rfc822", "[bounce]")
{
    auto in = sample();
    in.ret_full = true;
    auto got = compose_bounce(in);
    CHECK(got.find("Content-Type: message/rfc822\r\n\r\n" + original) != std::string::npos);
    CHECK(got.find("text/rfc822-headers") == std::string::npos);
    CHECK(compose_bounce(sample()).find("body line 1") == std::string::npos);
}

TEST_CASE("untrusted text cannot add header or DSN lines", "[bounce]")
{
    auto in = sample();
    in.original_sender = "alice@example.org\r\nBcc: victim@example.com";
    in.recipients[0].diagnostic = "550 no\r\nAction: delivered";
    in.recipients[0].address = "bob@example.org\nX-Evil: 1";
    auto got = compose_bounce(in);
    CHECK(got.find("\r\nBcc:") == std::string::npos);
    CHECK(got.find("\r\nAction: delivered") == std::string::npos);
    CHECK(got.find("\nX-Evil") == std::string::npos);
    CHECK(got.find("To: <alice@example.orgBcc: victim@example.com>\r\n") != std::string::npos);
}

namespace {

// write_actual - leave the composed text next to the build for inspection when a golden differs.
void write_actual(const char* name, const std::string& text)
{
    std::ofstream(std::string(name) + ".actual", std::ios::binary) << text;
}

}  // namespace

TEST_CASE("DSN golden file: success notice (NOTIFY=SUCCESS), headers only even with RET=FULL", "[bounce]")
{
    auto in = sample();
    in.kind = report_kind::success;
    in.ret_full = true;  // RFC 3461 4.3: RET applies to failure reports only
    in.recipients = {{"bob@example.org", "rfc822;Bob@Example.org", "2.0.0", "delivered to maildir"}};
    auto got = compose_bounce(in);
    const auto want = read_golden("success_hdrs.ref");
    if (got != want) write_actual("success_hdrs", got);
    CHECK(got == want);
    CHECK(got.find("body line 1") == std::string::npos);
}

TEST_CASE("DSN golden file: delay notice (NOTIFY=DELAY) with Will-Retry-Until", "[bounce]")
{
    auto in = sample();
    in.kind = report_kind::delay;
    in.now_unix = in.arrival_unix + 4 * 3600 + 60;
    in.expiry_unix = in.arrival_unix + 5 * 24 * 3600;
    in.recipients = {{"carol@example.net", "", "4.4.1", "remote delivery not yet available"}};
    auto got = compose_bounce(in);
    const auto want = read_golden("delay_hdrs.ref");
    if (got != want) write_actual("delay_hdrs", got);
    CHECK(got == want);
}

TEST_CASE("a double bounce goes to report_to and carries the whole bounce", "[bounce]")
{
    auto in = sample();
    in.kind = report_kind::double_bounce;
    in.original_sender.clear();  // the failed bounce had the null sender
    in.report_to = "postmaster@example.org";
    auto got = compose_bounce(in);
    CHECK(got.find("To: <postmaster@example.org>\r\n") != std::string::npos);
    CHECK(got.find("Subject: Postmaster Copy: Undelivered Mail\r\n") != std::string::npos);
    CHECK(got.find("Action: failed\r\n") != std::string::npos);
    CHECK(got.find("Content-Type: message/rfc822\r\n\r\n" + original) != std::string::npos);
}
