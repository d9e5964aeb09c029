// tests/unit/smtp/esmtp_params_test.cpp: MAIL/RCPT parameters and xtext.
#include "smtp/esmtp_params.hpp"
#include "support/catch.hpp"

using namespace postrider::smtp;

TEST_CASE("parse_mail_params: got values or the 555 reason", "[esmtp]")
{
    struct row {
        std::string in;
        std::string error;  // empty: must parse
    };
    auto r = GENERATE(values<row>({
        {"", ""},
        {"SIZE=100", ""},
        {"size=0 body=8bitmime", ""},
        {"BODY=7BIT SMTPUTF8 RET=HDRS ENVID=QQ+2B1", ""},
        {"SIZE=18446744073709551616", "Bad SIZE value"},
        {"SIZE=", "Bad parameter syntax: SIZE="},
        {"SIZE", "Bad SIZE value"},
        {"SIZE=1x", "Bad SIZE value"},
        {"SIZE=1 SIZE=1", "Duplicate option: SIZE"},
        {"BODY=BINARYMIME", "BODY=BINARYMIME is not supported"},
        {"BODY=9BIT", "Bad BODY value"},
        {"SMTPUTF8=yes", "SMTPUTF8 takes no value"},
        {"RET=ALL", "Bad RET value"},
        {"ENVID=a+2", "Bad ENVID value"},
        {"ENVID=a+0D", "Bad ENVID value"},
        {"ENVID=" + std::string(101, 'e'), "Bad ENVID value"},
        {"NOTIFY=NEVER", "Unsupported option: NOTIFY"},
        {"AUTH=<>", "Unsupported option: AUTH"},
        {"-X=1", "Bad parameter syntax: -X=1"},
        {"X=a=b", "Bad parameter syntax: X=a=b"},
        {"X=\x01", "Bad parameter syntax: X=\\x01"},
        {"XVERP", ""},
        {"xverp=-=", ""},
        {"XVERP=+=", ""},
        {"XVERP=+", "Bad XVERP delimiters: use two of -=+"},
        {"XVERP=+=-", "Bad XVERP delimiters: use two of -=+"},
        {"XVERP=.=", "Bad XVERP delimiters: use two of -=+"},
        {"XVERP XVERP", "Duplicate option: XVERP"},
        {"XVERP=\x01=", "Bad XVERP delimiters: use two of -=+"},
    }));
    INFO("params " << r.in);
    const auto got = parse_mail_params(r.in);
    CHECK(got.params.has_value() == r.error.empty());
    CHECK(got.error == r.error);
}

TEST_CASE("parse_mail_params: values land in the right fields", "[esmtp]")
{
    const auto got = parse_mail_params("SIZE=42 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=id+2Bx");
    REQUIRE(got.params);
    CHECK(got.params->size == 42u);
    CHECK(got.params->body == body_type::eight_bit_mime);
    CHECK(got.params->smtputf8);
    CHECK(got.params->ret_full);
    CHECK(got.params->envid == "id+x");
    CHECK_FALSE(got.params->xverp);
    CHECK(parse_mail_params("XVERP").params->xverp == "");  // the server's verp_delimiters
    CHECK(parse_mail_params("XVERP=-=").params->xverp == "-=");
}

TEST_CASE("parse_rcpt_params: NOTIFY and ORCPT", "[esmtp]")
{
    struct row {
        std::string in;
        std::uint8_t notify;
        std::string orcpt;
        std::string error;
    };
    auto r = GENERATE(values<row>({
        {"", 0, "", ""},
        {"NOTIFY=NEVER", notify_never, "", ""},
        {"notify=success,failure,delay", notify_success | notify_failure | notify_delay, "", ""},
        {"ORCPT=rfc822;a+40b.example", 0, "rfc822;a@b.example", ""},
        {"NOTIFY=NEVER,SUCCESS", 0, "", "Bad NOTIFY value"},
        {"NOTIFY=SUCCESS,SUCCESS", 0, "", "Bad NOTIFY value"},
        {"NOTIFY=", 0, "", "Bad parameter syntax: NOTIFY="},
        {"ORCPT=a@b", 0, "", "Bad ORCPT value"},
        {"ORCPT=rfc822;", 0, "", "Bad ORCPT value"},
        {"ORCPT=rfc822;a+0Ab", 0, "", "Bad ORCPT value"},
        {"ORCPT=rfc822;a ORCPT=rfc822;b", 0, "", "Duplicate option: ORCPT"},
        {"SIZE=1", 0, "", "Unsupported option: SIZE"},
    }));
    INFO("params " << r.in);
    const auto got = parse_rcpt_params(r.in);
    CHECK(got.error == r.error);
    REQUIRE(got.params.has_value() == r.error.empty());
    if (got.params) {
        CHECK(got.params->notify == r.notify);
        CHECK(got.params->orcpt == r.orcpt);
    }
}

TEST_CASE("xtext_decode", "[esmtp]")
{
    CHECK(xtext_decode("abc") == "abc");
    CHECK(xtext_decode("a+2Bb+3D") == "a+b=");
    CHECK(xtext_decode("+20") == " ");
    CHECK_FALSE(xtext_decode("a+2"));
    CHECK_FALSE(xtext_decode("a+2b"));  // RFC 3461: upper-case hex only
    CHECK_FALSE(xtext_decode("a=b"));
    CHECK_FALSE(xtext_decode("a+00"));
    CHECK_FALSE(xtext_decode("\xc3\xa9"));
}
