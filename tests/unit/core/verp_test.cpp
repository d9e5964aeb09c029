#include "support/catch.hpp"

#include "core/verp.hpp"

using postrider::core::valid_verp_delimiters;
using postrider::core::verp_sender;

TEST_CASE("verp_sender personalises the sender per recipient", "[verp]")
{
    CHECK(verp_sender("owner-list@example.com", "joe@example.org", "+=") == "owner-list+joe=example.org@example.com");
    CHECK(verp_sender("bounces@lists.example", "a.b@c.example", "-=") == "bounces-a.b=c.example@lists.example");
    // The last '@' splits, and the sender's domain is kept as written.
    CHECK(verp_sender("x@Host.Example", "y@Z.example", "+=") == "x+y=Z.example@Host.Example");
    // Three recipients, three different return paths.
    const auto a = verp_sender("l@d", "a@x", "+="), b = verp_sender("l@d", "b@x", "+="), c = verp_sender("l@d", "a@y", "+=");
    CHECK(a != b);
    CHECK(a != c);
    CHECK(b != c);
}

TEST_CASE("verp_sender leaves what it cannot rewrite", "[verp]")
{
    CHECK_FALSE(verp_sender("", "joe@example.org", "+="));          // null sender: bounces have no VERP
    CHECK_FALSE(verp_sender("owner@d", "joe@example.org", "+"));    // one delimiter
    CHECK_FALSE(verp_sender("owner@d", "joe@example.org", "+=x"));  // three
    CHECK_FALSE(verp_sender("owner@d", "joe@example.org", "+@"));   // '@' is not allowed
    CHECK_FALSE(verp_sender("owner@d", "\"j oe\"@example.org", "+="));
    CHECK_FALSE(verp_sender("\"o w\"@d", "joe@example.org", "+="));
    CHECK_FALSE(verp_sender("owner", "joe@example.org", "+="));
    CHECK_FALSE(verp_sender("owner@d", "joe", "+="));
    CHECK_FALSE(verp_sender("@d", "joe@e", "+="));
    // RFC 5321 local part limit: 64 octets.
    const std::string long_local(50, 'a');
    CHECK(verp_sender("o@d", long_local + "@example.org", "+=").has_value());  // 1+1+50+1+11 = 64
    CHECK_FALSE(verp_sender("o@d", long_local + "@example.orgx", "+="));      // 65
}

TEST_CASE("valid_verp_delimiters allows two of - = +", "[verp]")
{
    CHECK(valid_verp_delimiters("+="));
    CHECK(valid_verp_delimiters("-="));
    CHECK(valid_verp_delimiters("++"));
    CHECK_FALSE(valid_verp_delimiters(""));
    CHECK_FALSE(valid_verp_delimiters("+"));
    CHECK_FALSE(valid_verp_delimiters("+=-"));
    CHECK_FALSE(valid_verp_delimiters("+."));
    CHECK_FALSE(valid_verp_delimiters(std::string_view("+\0", 2)));
}
