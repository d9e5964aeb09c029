#include "support/catch.hpp"

#include "outbound/protocol.hpp"
#include "outbound/route.hpp"

using namespace postrider::outbound;

namespace {

remote_reply ehlo(std::vector<std::string> lines)
{
    remote_reply r;
    r.code = 250;
    r.lines = std::move(lines);
    return r;
}

}  // namespace

TEST_CASE("dot_stuff doubles leading dots and terminates")
{
    struct row {
        std::string in, want;
    };
    std::vector<row> rows = {
        {"a\r\n", "a\r\n.\r\n"},
        {".\r\n", "..\r\n.\r\n"},
        {"a\r\n.b\r\n..c\r\nd.e\r\n", "a\r\n..b\r\n...c\r\nd.e\r\n.\r\n"},
        {"no final crlf", "no final crlf\r\n.\r\n"},
        {"", ".\r\n"},
        {".start", "..start\r\n.\r\n"},
    };
    for (const auto& r : rows) {
        INFO("input " << r.in);
        CHECK(dot_stuff(r.in) == r.want);
    }
}

TEST_CASE("parse_ehlo keeps the keywords we use")
{
    auto e = parse_ehlo(ehlo({"mx.example greets you", "pipelining", "SIZE 1000", "8BITMIME", "STARTTLS", "DSN",
                              "SMTPUTF8", "AUTH PLAIN"}));
    CHECK(e.pipelining);
    CHECK(e.size);
    CHECK(e.max_size == 1000);
    CHECK(e.eightbitmime);
    CHECK(e.starttls);
    CHECK(e.dsn);
    CHECK(e.smtputf8);
    // The greeting line is not a keyword; SIZE without (or with a bad) value means no limit.
    auto g = parse_ehlo(ehlo({"PIPELINING", "SIZE", "SIZE 99999999999999999999999"}));
    CHECK_FALSE(g.pipelining);
    CHECK(g.size);
    CHECK(g.max_size == 0);
}

TEST_CASE("MAIL and RCPT lines carry parameters only when the server offers them")
{
    extensions none;
    mail_options o;
    o.size = 123;
    o.body_8bit = true;
    o.envid = "id+1=x";
    o.ret_full = true;
    CHECK(mail_line("a@b", o, none) == "MAIL FROM:<a@b>\r\n");
    extensions all;
    all.size = all.eightbitmime = all.dsn = all.smtputf8 = true;
    CHECK(mail_line("a@b", o, all) == "MAIL FROM:<a@b> SIZE=123 BODY=8BITMIME RET=FULL ENVID=id+2B1+3Dx\r\n");
    CHECK(mail_line("", {}, none) == "MAIL FROM:<>\r\n");
    CHECK(rcpt_line("c@d", "c@d", 4 | 8, none) == "RCPT TO:<c@d>\r\n");
    CHECK(rcpt_line("c@d", "c@d", 4 | 8, all) == "RCPT TO:<c@d> NOTIFY=FAILURE,DELAY ORCPT=rfc822;c@d\r\n");
    // The queue stores ORCPT as "addr-type;decoded address" (as received, decoded): the type is kept, not doubled.
    CHECK(rcpt_line("c@d", "rfc822;o+x@d", 0, all) == "RCPT TO:<c@d> ORCPT=rfc822;o+2Bx@d\r\n");
    CHECK(rcpt_line("c@d", "utf-8;o@d", 0, all) == "RCPT TO:<c@d> ORCPT=utf-8;o@d\r\n");
    CHECK(rcpt_line("c@d", "bad type;o@d", 0, all) == "RCPT TO:<c@d> ORCPT=rfc822;bad+20type;o@d\r\n");
    CHECK(rcpt_line("c@d", "", 1, all) == "RCPT TO:<c@d> NOTIFY=NEVER\r\n");
}

TEST_CASE("xtext encodes + = and non-printables (no parameter or line injection)")
{
    CHECK(xtext("a b\r\nc") == "a+20b+0D+0Ac");
    CHECK(xtext("+=") == "+2B+3D");
}

TEST_CASE("parse_nexthop: Postfix relayhost syntax")
{
    auto a = parse_nexthop("[127.0.0.1]:2526", 25);
    REQUIRE(a);
    CHECK(a->host == "127.0.0.1");
    CHECK(a->port == 2526);
    CHECK_FALSE(a->mx_lookup);
    auto b = parse_nexthop("smart.example", 25);
    REQUIRE(b);
    CHECK(b->port == 25);
    CHECK(b->mx_lookup);
    auto c = parse_nexthop("[::1]:587", 25);
    REQUIRE(c);
    CHECK(c->host == "::1");
    CHECK_FALSE(parse_nexthop("::1", 25));
    CHECK_FALSE(parse_nexthop("[x]:0", 25));
    CHECK_FALSE(parse_nexthop("[x]:99999", 25));
    CHECK_FALSE(parse_nexthop("h:", 25));
    CHECK_FALSE(parse_nexthop("bad host", 25));
    CHECK_FALSE(parse_nexthop("[x", 25));
}
