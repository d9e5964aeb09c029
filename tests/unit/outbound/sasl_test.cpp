// tests/unit/outbound/sasl_test.cpp: base64 (RFC 4648 test vectors), AUTH PLAIN/LOGIN lines, EHLO AUTH keywords.
#include "support/catch.hpp"

#include "outbound/protocol.hpp"
#include "outbound/sasl.hpp"

#include <string>

using namespace postrider::outbound;

TEST_CASE("base64 matches the RFC 4648 section 10 test vectors")
{
    CHECK(base64("") == "");
    CHECK(base64("f") == "Zg==");
    CHECK(base64("fo") == "Zm8=");
    CHECK(base64("foo") == "Zm9v");
    CHECK(base64("foob") == "Zm9vYg==");
    CHECK(base64("fooba") == "Zm9vYmE=");
    CHECK(base64("foobar") == "Zm9vYmFy");
    CHECK(base64(std::string("\xff\xfe\x00", 3)) == "//4A");
}

TEST_CASE("AUTH PLAIN initial response is NUL user NUL password (RFC 4616)")
{
    sasl_credentials c{"tim", "tanstaaftanstaaf"};
    // The example of RFC 4616 section 4 with an empty authzid.
    CHECK(auth_plain_command(c) == "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n");
    CHECK(auth_login_response("tim") == "dGlt\r\n");
}

TEST_CASE("credentials that could split the PLAIN message or the line are refused")
{
    CHECK(valid_credential("user@example.org"));
    CHECK_FALSE(valid_credential(""));
    CHECK_FALSE(valid_credential(std::string("a\0b", 3)));
    CHECK_FALSE(valid_credential("a\r\nRSET"));
    CHECK_FALSE(valid_credential(std::string(256, 'x')));
}

TEST_CASE("EHLO AUTH keywords: RFC 4954 form and the old AUTH= form")
{
    auto parse = [](std::string line) {
        remote_reply r;
        r.code = 250;
        r.lines = {"mx.example", line};
        return parse_ehlo(r);
    };
    auto a = parse("AUTH LOGIN PLAIN CRAM-MD5");
    CHECK(a.auth_plain);
    CHECK(a.auth_login);
    auto b = parse("auth=login");
    CHECK_FALSE(b.auth_plain);
    CHECK(b.auth_login);
    auto c = parse("AUTH CRAM-MD5 XPLAIN");
    CHECK_FALSE(c.auth_plain);
    CHECK_FALSE(c.auth_login);
    auto d = parse("AUTHX PLAIN");
    CHECK_FALSE(d.auth_plain);
}
