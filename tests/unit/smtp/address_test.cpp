// tests/unit/smtp/address_test.cpp: paths, mailboxes, domains, literals, UTF-8.
#include "smtp/address.hpp"
#include "support/catch.hpp"

using namespace postrider::smtp;

namespace {

// show - canonical address or the error name, for table comparison.
std::string show(const parsed_path& p)
{
    switch (p.error) {
    case address_error::none: return p.box ? p.box->str() : "<>";
    case address_error::syntax: return "syntax";
    case address_error::too_long: return "too_long";
    case address_error::needs_smtputf8: return "needs_smtputf8";
    }
    return "?";
}

}  // namespace

TEST_CASE("parse_forward_path: got canonical address or error", "[address]")
{
    struct row {
        std::string in;
        bool utf8;
        std::string want;
    };
    const std::string l64(64, 'l'), l65(65, 'l');
    const std::string long_domain = std::string(63, 'd') + "." + std::string(63, 'd') + "." + std::string(63, 'd') + ".com";
    auto r = GENERATE_COPY(values<row>({
        {"<alice@Example.ORG>", false, "alice@example.org"},
        {"<Alice@example.org>", false, "Alice@example.org"},  // local part case is kept
        {"<postmaster>", false, "postmaster@mx.example"},
        {"<POSTMASTER>", false, "postmaster@mx.example"},
        {"<postmaster@other.example>", false, "postmaster@other.example"},
        {"<\"alice\"@x.org>", false, "alice@x.org"},
        {"<\"a b\"@x.org>", false, "\"a b\"@x.org"},
        {"<\"a\\b\"@x.org>", false, "ab@x.org"},
        {"<\"a\\\\b\"@x.org>", false, "\"a\\\\b\"@x.org"},
        {"<\"a.\"@x.org>", false, "\"a.\"@x.org"},
        {"<@r1.example,@r2.example:a@x.org>", false, "a@x.org"},
        {"<a@[192.0.2.1]>", false, "a@[192.0.2.1]"},
        {"<a@[IPv6:2001:DB8::1]>", false, "a@[IPv6:2001:db8::1]"},
        {"<a@[IPv6:1:2:3:4:5:6:7:8]>", false, "a@[IPv6:1:2:3:4:5:6:7:8]"},
        {"<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>", false, "a@[IPv6:1:2:3:4:5:6:192.0.2.1]"},
        {"<" + l64 + "@x.org>", false, l64 + "@x.org"},
        {"<a@" + long_domain + ">", false, "a@" + long_domain},
        {"<δ@x.org>", true, "δ@x.org"},
        {"<a@ÄÖ.example>", true, "a@ÄÖ.example"},
        // errors
        {"<>", false, "syntax"},
        {"<" + l65 + "@x.org>", false, "too_long"},
        {"<a@" + std::string(64, 'd') + ".org>", false, "syntax"},
        {"<a@x.org.>", false, "syntax"},
        {"<a@.x.org>", false, "syntax"},
        {"<a@x..org>", false, "syntax"},
        {"<a@-x.org>", false, "syntax"},
        {"<a@x-.org>", false, "syntax"},
        {"<a@x_y.org>", false, "syntax"},
        {"<a@1.2.3.4>", false, "syntax"},
        {"<a@>", false, "syntax"},
        {"<@x.org>", false, "syntax"},
        {"<a>", false, "syntax"},
        {"<a b@x.org>", false, "syntax"},
        {"<a@x.org", false, "syntax"},
        {"a@x.org", false, "syntax"},
        {"<a.@x.org>", false, "syntax"},
        {"<\"\"@x.org>", false, "syntax"},
        {"<\"a\x01\"@x.org>", false, "syntax"},
        {"<a\x7f@x.org>", false, "syntax"},
        {"<a@[1.2.3]>", false, "syntax"},
        {"<a@[1.2.3.4.5]>", false, "syntax"},
        {"<a@[01.2.3.4]>", false, "syntax"},
        {"<a@[IPv6:1::2::3]>", false, "syntax"},
        {"<a@[IPv6:1:2:3:4:5:6:7]>", false, "syntax"},
        {"<a@[IPv6:1:2:3:4:5:6:7:8:9]>", false, "syntax"},
        {"<a@[IPv6:12345::1]>", false, "syntax"},
        {"<a@[IPv6:g::1]>", false, "syntax"},
        {"<a@[IPv7:1::1]>", false, "syntax"},
        {"<@r1.example:>", false, "syntax"},
        {"<@r1.example,x:a@x.org>", false, "syntax"},
        {"<δ@x.org>", false, "needs_smtputf8"},
        {"<a@ÄÖ.example>", false, "needs_smtputf8"},
        {"<\xff@x.org>", true, "syntax"},
        {"<\xc0\xaf@x.org>", true, "syntax"},     // overlong '/'
        {"<\xed\xa0\x80@x.org>", true, "syntax"}, // UTF-16 surrogate
        {"<a@" + std::string(260, 'a') + ">", false, "too_long"},  // path over 256
    }));
    INFO("path " << r.in);
    CHECK(show(parse_forward_path(r.in, r.utf8, "MX.example")) == r.want);
}

TEST_CASE("parse_reverse_path: null sender allowed, postmaster is not special", "[address]")
{
    CHECK(show(parse_reverse_path("<>", false)) == "<>");
    CHECK(show(parse_reverse_path("<a@b.example>", false)) == "a@b.example");
    CHECK(show(parse_reverse_path("<postmaster>", false)) == "syntax");
    CHECK(show(parse_reverse_path("<@x.example:a@b.example>", false)) == "a@b.example");
    CHECK(show(parse_reverse_path("< >", false)) == "syntax");
}

TEST_CASE("parse_helo_name: domains (underscore tolerated) and literals", "[address]")
{
    struct row {
        std::string in;
        std::optional<std::string> want;
    };
    auto r = GENERATE(values<row>({
        {"MX.Example.ORG", "mx.example.org"},
        {"localhost", "localhost"},
        {"desk_top.lan", "desk_top.lan"},
        {"[192.0.2.1]", "[192.0.2.1]"},
        {"[ipv6:::1]", "[IPv6:::1]"},
        {"192.0.2.1", std::nullopt},
        {"a..b", std::nullopt},
        {"a b", std::nullopt},
        {"ÄÖ.example", std::nullopt},
        {"", std::nullopt},
    }));
    INFO("helo " << r.in);
    CHECK(parse_helo_name(r.in) == r.want);
}

TEST_CASE("path_extent is quote-aware", "[address]")
{
    CHECK(path_extent("<a@b> X") == 5);
    CHECK(path_extent("<\"x>y\"@b>") == 9);
    CHECK(path_extent("<\"x\\\">\"@b>") == 10);
    CHECK(path_extent("<a@b") == 0);
    CHECK(path_extent("a@b>") == 0);
    CHECK(path_extent("") == 0);
}
