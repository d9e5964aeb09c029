#include "support/catch.hpp"

#include "core/escape.hpp"

using postrider::core::escape;

TEST_CASE("escape keeps printable ASCII and encodes the rest", "[escape]")
{
    struct row { std::string in, want; };
    auto r = GENERATE(values<row>({
        {"mx.example.org", "mx.example.org"},
        {"evil\"\r\nX", "evil\\\"\\r\\nX"},
        {std::string("a\0b", 3), "a\\x00b"},
        {"back\\slash\ttab", "back\\\\slash\\ttab"},
        {"\xff\x7f", "\\xff\\x7f"},
    }));
    INFO("input " << r.in);
    CHECK(escape(r.in) == r.want);
}

TEST_CASE("escape caps the length", "[escape]")
{
    std::string big(10000, 'a');
    auto got = escape(big, 16);
    CHECK(got == std::string(16, 'a') + "...");
    CHECK(escape("", 16).empty());
}
