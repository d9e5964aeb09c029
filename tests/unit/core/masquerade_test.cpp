#include "support/catch.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/limits.hpp"
#include "core/masquerade.hpp"

using namespace postrider::core;

namespace {

masquerade_rules rules()
{
    masquerade_rules r;
    r.domains = {"!dev.example.com", "example.com", "example.org"};
    r.exceptions = {"root", "mailer-daemon"};
    return r;
}

// row - an input and what the function makes of it with rules(); nullopt: left unchanged.
struct row {
    const char* in;
    std::optional<std::string> want;
};

void check_rows(std::optional<std::string> (*f)(std::string_view, const masquerade_rules&),
                std::initializer_list<row> rows)
{
    for (const auto& t : rows) {
        INFO(t.in);
        CHECK(f(t.in, rules()) == t.want);
    }
}

}  // namespace

TEST_CASE("masquerade_domain follows Postfix masquerade_domains", "[masquerade]")
{
    check_rows(masquerade_domain, {
        {"host.example.com", "example.com"},
        {"a.b.example.com", "example.com"},
        {"HOST.Example.COM", "example.com"},        // case-insensitive
        {"example.com", std::nullopt},              // already the masquerade domain
        {"badexample.com", std::nullopt},           // not a subdomain: no dot before the suffix
        {"dev.example.com", std::nullopt},          // excluded
        {"box.dev.example.com", std::nullopt},      // under an excluded domain
        {"mail.example.org", "example.org"},
        {"example.net", std::nullopt},
        {"", std::nullopt},
    });
    masquerade_rules order;
    order.domains = {"sub.example.com", "example.com"};  // first match wins
    CHECK(masquerade_domain("h.sub.example.com", order) == "sub.example.com");
    order.domains = {"example.com", "sub.example.com"};
    CHECK(masquerade_domain("h.sub.example.com", order) == "example.com");
    CHECK_FALSE(masquerade_domain("h.example.com", masquerade_rules{}));
}

TEST_CASE("masquerade_address rewrites envelope addresses", "[masquerade]")
{
    check_rows(masquerade_address, {
        {"joe@host.example.com", "joe@example.com"},
        {"Joe.Smith@host.example.com", "Joe.Smith@example.com"},  // local part kept as written
        {"\"a b\"@host.example.com", "\"a b\"@example.com"},
        {"root@host.example.com", std::nullopt},    // exception
        {"ROOT@host.example.com", std::nullopt},    // exceptions compare case-insensitively
        {"\"root\"@host.example.com", std::nullopt},  // ... and unquoted
        {"mailer-daemon@host.example.com", std::nullopt},
        {"joe@example.com", std::nullopt},
        {"joe@[192.0.2.1]", std::nullopt},
        {"", std::nullopt},
        {"joe", std::nullopt},
        {"@host.example.com", std::nullopt},
        {"joe@", std::nullopt},
    });
}

TEST_CASE("masquerade_field_value rewrites only addr-spec domains", "[masquerade]")
{
    check_rows(masquerade_field_value, {
        {" joe@host.example.com", " joe@example.com"},
        {" Joe <joe@host.example.com>", " Joe <joe@example.com>"},
        {" \"Smith, Joe\" <joe@host.example.com>", " \"Smith, Joe\" <joe@example.com>"},
        {" joe@host.example.com (Joe at host.example.com)", " joe@example.com (Joe at host.example.com)"},
        {" =?utf-8?q?J=C3=B6e?= <joe@host.example.com>", " =?utf-8?q?J=C3=B6e?= <joe@example.com>"},
        {" a@x.example.com, b@y.example.org,\r\n\tc@example.net", " a@example.com, b@example.org,\r\n\tc@example.net"},
        {" \"j@x\"@host.example.com", " \"j@x\"@example.com"},           // quoted local part with @
        {" \"j\\\"q\"@host.example.com", " \"j\\\"q\"@example.com"},     // quoted-pair in it
        {" Team: a@h.example.com, b@h.example.com;", " Team: a@example.com, b@example.com;"},
        {" Team: a@h.example.com;, c@h.example.com", " Team: a@example.com;, c@example.com"},
        {" undisclosed-recipients:;", std::nullopt},
        {" <@relay.example:joe@host.example.com>", " <@relay.example:joe@example.com>"},  // obs-route
        {" Joe\r\n <joe@host.example.com>", " Joe\r\n <joe@example.com>"},                 // folded
        {" (c (nested)) joe@host.example.com", " (c (nested)) joe@example.com"},
        {" root@host.example.com, joe@host.example.com", " root@host.example.com, joe@example.com"},
        {" joe@host.example.com,", " joe@example.com,"},  // obsolete empty element
        // nothing to rewrite
        {" joe@example.com", std::nullopt},
        {" joe", std::nullopt},
        {" joe@[192.0.2.1]", std::nullopt},
        {" root@host.example.com", std::nullopt},
        {" joe@host (c) .example.com", std::nullopt},  // obsolete CFWS inside the domain: kept
        {"", std::nullopt},
        // not an address list: the whole field is left alone, even the parsable parts
        {" joe@host.example.com, \"unterminated", std::nullopt},
        {" joe@host.example.com (open", std::nullopt},
        {" <joe@host.example.com", std::nullopt},
        {" joe@host.example.com>", std::nullopt},
        {" a@b@host.example.com", std::nullopt},
        {" joe@host.example.com.", std::nullopt},
        {" joe@.example.com", std::nullopt},
        {" joe@host.example.com\r\nX", std::nullopt},  // CRLF that does not fold
        {" joe@host.example.com\n", std::nullopt},
        {" Team: a@h.example.com", std::nullopt},      // group never closed
        {" a@h.example.com;", std::nullopt},           // ';' outside a group
        {" G: H: a@h.example.com;;", std::nullopt},
        {" <a@h.example.com> trailing", std::nullopt},
        {" joe@host.example.com \\x", std::nullopt},
    });
    const std::string with_nul(" joe@host.example.com\0", 22);
    CHECK_FALSE(masquerade_field_value(with_nul, rules()));
}

TEST_CASE("masquerade_header rewrites sender fields and stops at the body", "[masquerade]")
{
    const std::string head =
        "Received: by h (postrider) id X; date\r\n"
        "From: Joe <joe@host.example.com>\r\n"
        "To: bob@host.example.com\r\n"
        "Reply-To: list@lists.example.org,\r\n"
        " joe@host.example.com\r\n"
        "Subject: mail from joe@host.example.com\r\n"
        "sender: x@y.example.com\r\n";
    const std::string body = "\r\nFrom: body@host.example.com\r\n";
    const std::string msg = head + body;
    auto r = masquerade_header(msg, rules());
    REQUIRE(r);
    CHECK(r->replaced == head.size());
    CHECK(r->header ==
          "Received: by h (postrider) id X; date\r\n"
          "From: Joe <joe@example.com>\r\n"
          "To: bob@host.example.com\r\n"
          "Reply-To: list@example.org,\r\n"
          " joe@example.com\r\n"
          "Subject: mail from joe@host.example.com\r\n"
          "sender: x@example.com\r\n");
    // The message as stored is the new header followed by the untouched rest.
    CHECK(r->header + msg.substr(r->replaced) ==
          "Received: by h (postrider) id X; date\r\nFrom: Joe <joe@example.com>\r\nTo: bob@host.example.com\r\n"
          "Reply-To: list@example.org,\r\n joe@example.com\r\nSubject: mail from joe@host.example.com\r\n"
          "sender: x@example.com\r\n\r\nFrom: body@host.example.com\r\n");

    auto with_rcpt = rules();
    with_rcpt.classes = masq_header_recipient;
    auto t = masquerade_header(msg, with_rcpt);
    REQUIRE(t);
    CHECK(t->header.find("To: bob@example.com\r\n") != std::string::npos);
    CHECK(t->header.find("From: Joe <joe@host.example.com>\r\n") != std::string::npos);
}

TEST_CASE("masquerade_header leaves what it cannot or need not change", "[masquerade]")
{
    struct row {
        const char* message;
        bool changed;
        std::size_t replaced;  // when changed
    };
    const row table[] = {
        {"From: joe@example.com\r\n\r\nbody\r\n", false, 0},
        {"From: joe@host.example.com, \"x\r\n\r\n", false, 0},  // unparsable field
        {"\r\nFrom: joe@host.example.com\r\n", false, 0},       // no header section
        {"not a header\r\nFrom: joe@host.example.com\r\n", false, 0},
        {"From: joe@host.example.com", false, 0},                // unterminated line
        {"From: joe@host.example.com\r\n", true, 28},            // no body at all
        {"From: joe@host.example.com\r\n continued@x.example.com", false, 0},  // torn fold
        {"Subject: x\r\nFrom: joe@host.example.com\r\nbody line\r\n", true, 40},  // no separator: stops
        {"X Bad: y\r\nFrom: joe@host.example.com\r\n", false, 0},
    };
    for (const auto& t : table) {
        INFO(t.message);
        auto r = masquerade_header(t.message, rules());
        CHECK(r.has_value() == t.changed);
        if (r && t.changed) CHECK(r->replaced == t.replaced);
    }
    masquerade_rules none;
    CHECK_FALSE(masquerade_header("From: joe@host.example.com\r\n\r\n", none));
    auto env_only = rules();
    env_only.classes = masq_envelope_sender;
    CHECK_FALSE(masquerade_header("From: joe@host.example.com\r\n\r\n", env_only));
}

TEST_CASE("a field value longer than limits::header_field_octets is left as it is", "[masquerade]")
{
    std::string at_limit = " joe@host.example.com";
    at_limit.resize(postrider::limits::header_field_octets, ' ');  // trailing blanks: still an address list
    CHECK(masquerade_field_value(at_limit, rules()) ==
          " joe@example.com" + std::string(at_limit.size() - 21, ' '));
    const std::string over = at_limit + " ";
    CHECK_FALSE(masquerade_field_value(over, rules()));
    CHECK(masquerade_header("From:" + at_limit + "\r\n\r\n", rules()));
    CHECK_FALSE(masquerade_header("From:" + over + "\r\n\r\n", rules()));
}
