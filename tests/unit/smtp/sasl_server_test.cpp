// tests/unit/smtp/sasl_server_test.cpp: SASL PLAIN and LOGIN exchanges, server side.
#include "smtp/sasl_server.hpp"
#include "support/catch.hpp"

using namespace postrider::smtp;
using kind = sasl_step::kind;

TEST_CASE("sasl: PLAIN with and without an initial response", "[sasl]")
{
    sasl_exchange a(sasl_mechanism::plain);
    auto s = a.start("AGFsaWNlAHNlY3JldA==");
    REQUIRE(s.what == kind::done);
    CHECK(s.credentials.authzid.empty());
    CHECK(s.credentials.authcid == "alice");
    CHECK(s.credentials.password == "secret");

    sasl_exchange b(sasl_mechanism::plain);
    s = b.start(std::nullopt);
    REQUIRE(s.what == kind::challenge);
    CHECK(s.challenge.empty());  // "334 " then the client sends the message
    s = b.respond("Ym9iAGFsaWNlAHNlY3JldA==");  // bob NUL alice NUL secret
    REQUIRE(s.what == kind::done);
    CHECK(s.credentials.authzid == "bob");
    CHECK(s.credentials.authcid == "alice");
}

TEST_CASE("sasl: PLAIN refuses malformed messages, bad base64, and accepts *", "[sasl]")
{
    CHECK(sasl_exchange(sasl_mechanism::plain).start("YWxpY2UAc2VjcmV0").what == kind::malformed);  // one NUL
    CHECK(sasl_exchange(sasl_mechanism::plain).start("AGFsaWNlAA==").what == kind::malformed);  // empty password
    CHECK(sasl_exchange(sasl_mechanism::plain).start("AABzZWNyZXQ=").what == kind::malformed);  // empty authcid
    CHECK(sasl_exchange(sasl_mechanism::plain).start("=").what == kind::malformed);  // empty response
    CHECK(sasl_exchange(sasl_mechanism::plain).start("AGFsaWNlAHNlY3JldA").what == kind::bad_base64);
    CHECK(sasl_exchange(sasl_mechanism::plain).start("!!!!").what == kind::bad_base64);
    sasl_exchange c(sasl_mechanism::plain);
    c.start(std::nullopt);
    CHECK(c.respond("*").what == kind::cancelled);
}

TEST_CASE("sasl: LOGIN asks for user name and password", "[sasl]")
{
    sasl_exchange a(sasl_mechanism::login);
    auto s = a.start(std::nullopt);
    REQUIRE(s.what == kind::challenge);
    CHECK(s.challenge == "VXNlcm5hbWU6");  // "Username:"
    s = a.respond("YWxpY2U=");
    REQUIRE(s.what == kind::challenge);
    CHECK(s.challenge == "UGFzc3dvcmQ6");  // "Password:"
    s = a.respond("c2VjcmV0");
    REQUIRE(s.what == kind::done);
    CHECK(s.credentials.authcid == "alice");
    CHECK(s.credentials.password == "secret");

    sasl_exchange b(sasl_mechanism::login);
    CHECK(b.start("YWxpY2U=").what == kind::challenge);  // initial response = user name
    CHECK(b.respond("*").what == kind::cancelled);
    sasl_exchange c(sasl_mechanism::login);
    c.start(std::nullopt);
    CHECK(c.respond("AA==").what == kind::malformed);  // a NUL user name
    CHECK(parse_sasl_mechanism("plain") == sasl_mechanism::plain);
    CHECK(parse_sasl_mechanism("Login") == sasl_mechanism::login);
    CHECK_FALSE(parse_sasl_mechanism("CRAM-MD5"));
    CHECK_FALSE(parse_sasl_mechanism(""));
}
