// tests/unit/sendmail/headers_test.cpp: header split, -t addresses, Bcc removal, completion.
#include "support/catch.hpp"

#include "sendmail/headers.hpp"

using namespace postrider::sendmail;

TEST_CASE("headers: split at the blank line, folded fields kept whole")
{
    auto m = split_headers("Subject: a\r\n b\r\nTo: x@y\r\n\r\nbody\r\n");
    REQUIRE(m.fields.size() == 2);
    CHECK(m.fields[0].name == "Subject");
    CHECK(m.fields[0].value() == "a b");
    CHECK(m.body == "body\r\n");
    CHECK_FALSE(m.separator_added);
}

TEST_CASE("headers: no separator: the first non-field line starts the body (fix-up)")
{
    auto m = split_headers("Subject: a\r\nthis is text\r\n");
    CHECK(m.separator_added);
    CHECK(m.body == "this is text\r\n");
    auto all_body = split_headers("hello world\r\n");
    CHECK(all_body.fields.empty());
    CHECK(all_body.separator_added);
    completion c{"joe", "", "example.org", "U1", 0};
    auto out = complete(m, c);
    CHECK(out.find("Subject: a\r\n\r\nthis is text\r\n") != std::string::npos);
    auto mbox = split_headers("From joe Tue Jan 7 00:00:00 2025\r\nSubject: x\r\n\r\nb\r\n");
    CHECK(mbox.from_line_dropped);
    CHECK(mbox.fields.size() == 1);
}

TEST_CASE("headers: address lists")
{
    struct row { std::string in; std::vector<std::string> want; };
    const std::vector<row> rows = {
        {"a@b", {"a@b"}},
        {"A B <a@b>, c@d", {"a@b", "c@d"}},
        {"\"Doe, J\" <j@d>", {"j@d"}},
        {"a@b (comment, with comma), c", {"a@b", "c"}},
        {"friends: x@y, z@w;, last@l", {"x@y", "z@w", "last@l"}},
        {"undisclosed-recipients:;", {}},
        {"<@relay:u@h>", {"u@h"}},
        {"\"quoted local\"@h", {"\"quoted local\"@h"}},
        {"", {}},
    };
    for (const auto& r : rows) {
        INFO(r.in);
        CHECK(parse_address_list(r.in) == r.want);
    }
}

TEST_CASE("headers: -t takes To, Cc and Bcc, or only Resent-* when present")
{
    auto m = split_headers("To: a@x\r\nCc: b@x,\r\n c@x\r\nBcc: d@x\r\nSubject: s\r\n\r\n");
    CHECK(header_recipients(m) == std::vector<std::string>{"a@x", "b@x", "c@x", "d@x"});
    auto r = split_headers("To: a@x\r\nResent-To: r@x\r\nResent-Bcc: rb@x\r\n\r\n");
    CHECK(header_recipients(r) == std::vector<std::string>{"r@x", "rb@x"});
}

TEST_CASE("headers: completion adds Date, From and Message-ID only when missing; Bcc never leaves")
{
    completion c{"joe", "Joe Q. Public", "example.org", "ID1", 1736240703};  // 2025-01-07 09:05:03 UTC
    auto out = complete(split_headers("To: a@x\r\nBcc: secret@x\r\n\r\nbody\r\n"), c);
    CHECK(out == "Date: Tue, 07 Jan 2025 09:05:03 +0000\r\n"
                 "From: \"Joe Q. Public\" <joe@example.org>\r\n"
                 "Message-ID: <ID1@example.org>\r\n"
                 "To: a@x\r\n\r\nbody\r\n");
    auto kept = complete(split_headers("date: x\r\nFROM: me@y\r\nMessage-Id: <m@y>\r\n\r\n"), c);
    CHECK(kept == "date: x\r\nFROM: me@y\r\nMessage-Id: <m@y>\r\n\r\n");
    c.full_name = "";
    CHECK(complete(split_headers("\r\n"), c).find("From: joe@example.org\r\n") != std::string::npos);
}

TEST_CASE("headers: display names are quoted when needed and never carry CR/LF")
{
    CHECK(quote_display_name("Joe Public") == "Joe Public");
    CHECK(quote_display_name("Joe \"Q\" Public") == "\"Joe \\\"Q\\\" Public\"");
    CHECK(quote_display_name("evil\r\nBcc: x@y") == "\"evilBcc: x@y\"");
}
