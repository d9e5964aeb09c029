#include "support/catch.hpp"

#include "local/header_scan.hpp"

#include <string>

using namespace postrider::local;

TEST_CASE("Received fields are counted in the header section only", "[header_scan]")
{
    const std::string msg = "Received: from a by b\r\n"
                            "RECEIVED: from c\r\n\tby d; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
                            "received:from e\r\n"
                            "X-Received: not a Received field\r\n"
                            "Receivedx: neither\r\n"
                            "Subject: hi\r\n"
                            "\r\n"
                            "Received: in the body, not counted\r\n";
    auto f = scan_headers(msg, "");
    CHECK(f.received == 3);
    CHECK_FALSE(f.delivered_to_match);
    // LF line ends (a maildir copy) give the same answer.
    std::string lf;
    for (char c : msg)
        if (c != '\r') lf += c;
    CHECK(scan_headers(lf, "").received == 3);
}

TEST_CASE("Delivered-To matches the recipient, case-insensitively, folded or bracketed", "[header_scan]")
{
    struct row { const char* msg; bool match; };
    auto c = GENERATE(values<row>({
        {"Delivered-To: alice@example.org\r\n\r\n", true},
        {"delivered-to:Alice@Example.ORG\r\n\r\n", true},
        {"DELIVERED-TO:   <alice@example.org>  \r\n\r\n", true},
        {"Delivered-To:\r\n alice@example.org\r\n\r\n", true},             // folded
        {"Subject: x\r\nDelivered-To: bob@example.org\r\nDelivered-To: alice@example.org\r\n\r\n", true},
        {"Delivered-To: bob@example.org\r\n\r\n", false},
        {"Delivered-To: alice@example.org.evil\r\n\r\n", false},
        {"Delivered-To: alice@example.org, bob@example.org\r\n\r\n", false},
        {"X-Delivered-To: alice@example.org\r\n\r\n", false},
        {"Subject: x\r\n\r\nDelivered-To: alice@example.org\r\n", false},   // body
        {"Subject: x\n\nDelivered-To: alice@example.org\n", false},         // body, LF
        {"Subject: x\r\n Delivered-To: alice@example.org\r\n\r\n", false},  // continuation of Subject
        {"Delivered-To: alice@example.org", true},                          // no line end at all
        {"", false},
    }));
    INFO(c.msg);
    CHECK(scan_headers(c.msg, "alice@example.org").delivered_to_match == c.match);
}

TEST_CASE("an empty address never matches an empty Delivered-To", "[header_scan]")
{
    CHECK_FALSE(scan_headers("Delivered-To: \r\n\r\n", "").delivered_to_match);
    CHECK_FALSE(scan_headers("Delivered-To: <>\r\n\r\n", "<>").delivered_to_match);
}

TEST_CASE("loop_reason: Delivered-To or more Received fields than the limit", "[header_scan]")
{
    header_facts f;
    f.received = 100;
    CHECK_FALSE(loop_reason(f, 100));
    f.received = 101;
    auto r = loop_reason(f, 100);
    REQUIRE(r);
    CHECK(r->find("too many hops (101 Received headers, limit 100)") != std::string::npos);
    CHECK_FALSE(loop_reason(f, 0));  // 0 disables the hop count
    f.received = 0;
    f.delivered_to_match = true;
    REQUIRE(loop_reason(f, 100));
    CHECK(loop_reason(f, 100)->starts_with("mail loop"));
}

TEST_CASE("a huge header section is scanned in one linear pass", "[header_scan]")
{
    std::string msg;
    for (int i = 0; i < 200000; ++i) msg += "Received: x\r\n";
    msg += "\r\n";
    msg += std::string(1 << 20, 'b');
    CHECK(scan_headers(msg, "a@b").received == 200000);
    // A header section with no body separator at all still ends.
    CHECK(scan_headers(std::string(1 << 20, 'x'), "a@b").received == 0);
}

TEST_CASE("Delivered-To fields are counted (the forward depth)", "[header_scan]")
{
    const std::string msg = "Delivered-To: a@x\r\nDELIVERED-TO: b@x\r\nX-Delivered-To: c@x\r\n"
                            "Delivered-To:\r\n d@x\r\n\r\nDelivered-To: body@x\r\n";
    auto f = scan_headers(msg, "b@x");
    CHECK(f.delivered_to == 3);
    CHECK(f.delivered_to_match);
    CHECK(scan_headers("Subject: x\r\n\r\n", "").delivered_to == 0);
}
