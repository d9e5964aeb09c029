// tests/unit/core/base64_test.cpp: RFC 4648 test vectors and strict decoding.
#include "core/base64.hpp"
#include "support/catch.hpp"

using postrider::core::base64_decode;
using postrider::core::base64_encode;

TEST_CASE("base64: RFC 4648 10 vectors both ways", "[base64]")
{
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [raw, text] : vectors) {
        CHECK(base64_encode(raw) == text);
        auto back = base64_decode(text);
        REQUIRE(back);
        CHECK(*back == raw);
    }
    const std::string binary("\0\xff\xfe\x01", 4);
    CHECK(base64_decode(base64_encode(binary)) == binary);
}

TEST_CASE("base64: only canonical text decodes", "[base64]")
{
    CHECK_FALSE(base64_decode("Zg"));        // no padding
    CHECK_FALSE(base64_decode("Zg="));       // short
    CHECK_FALSE(base64_decode("Zh=="));      // non-zero pad bits (RFC 4648 3.5)
    CHECK_FALSE(base64_decode("Zm9=Zm9v"));  // padding in the middle
    CHECK_FALSE(base64_decode("Z==="));
    CHECK_FALSE(base64_decode("===="));
    CHECK_FALSE(base64_decode("Zm9v\r\n"));
    CHECK_FALSE(base64_decode("Zm 9"));
    CHECK_FALSE(base64_decode("Zm9-"));      // base64url alphabet is not base64
    CHECK_FALSE(base64_decode(std::string("Zm9\0", 4)));
    CHECK(base64_decode("AGFsaWNlAHNlY3JldA==") == std::string("\0alice\0secret", 13));
}
