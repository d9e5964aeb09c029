// tests/unit/smtp/reply_test.cpp: reply wire format.
#include "smtp/reply.hpp"
#include "support/catch.hpp"

using namespace postrider::smtp;

TEST_CASE("format_reply: single, multiline, with and without enhanced status", "[reply]")
{
    struct row {
        std::string name;
        reply in;
        std::string want;
    };
    auto r = GENERATE(values<row>({
        {"one line with status", make_reply(250, "2.1.0", "Ok"), "250 2.1.0 Ok\r\n"},
        {"no status", make_reply(220, "", "mx ESMTP postrider"), "220 mx ESMTP postrider\r\n"},
        {"multiline", reply{250, "", {"mx", "PIPELINING", "SIZE 10"}}, "250-mx\r\n250-PIPELINING\r\n250 SIZE 10\r\n"},
        {"multiline status on every line", reply{550, "5.1.1", {"a", "b"}}, "550-5.1.1 a\r\n550 5.1.1 b\r\n"},
        {"control octets cannot split a reply", make_reply(500, "5.5.2", "x\r\n250 ok\x01"), "500 5.5.2 x??250 ok?\r\n"},
        {"empty text", reply{354, "", {}}, "354 \r\n"},
        {"bad code shown as 451 (caller bug, never 2xx)", make_reply(99, "", "x"), "451 x\r\n"},
    }));
    INFO("case " << r.name);
    CHECK(format_reply(r.in) == r.want);
}

TEST_CASE("is_failure classes reply codes", "[reply]")
{
    CHECK(is_failure(421));
    CHECK(is_failure(554));
    CHECK_FALSE(is_failure(250));
    CHECK_FALSE(is_failure(354));
}
