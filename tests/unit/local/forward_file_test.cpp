#include "support/catch.hpp"

#include "local/forward_file.hpp"

#include <string>

using namespace postrider::local;
using kind = delivery_target::kind;

TEST_CASE("forward file: forward, maildir and comment lines", "[forward_file]")
{
    auto r = parse_forward_file("# my list\n&alice@example.org\r\n  bob@example.net  \n\n./Maildir/\n./lists/x/\nbare\n",
                                "example.org", false);
    REQUIRE(r.error.empty());
    REQUIRE(r.targets.size() == 5);
    CHECK(r.targets[0] == delivery_target{kind::address, "alice@example.org"});
    CHECK(r.targets[1] == delivery_target{kind::address, "bob@example.net"});
    CHECK(r.targets[2] == delivery_target{kind::maildir, "Maildir"});
    CHECK(r.targets[3] == delivery_target{kind::maildir, "lists/x"});
    CHECK(r.targets[4] == delivery_target{kind::address, "bare@example.org"});  // qualified with the domain
}

TEST_CASE("forward file: an empty file or comments only means normal delivery", "[forward_file]")
{
    for (const char* text : {"", "# nothing\n\n", "\n"}) {
        auto r = parse_forward_file(text, "example.org", false);
        CHECK(r.error.empty());
        CHECK(r.targets.empty());
    }
}

TEST_CASE("forward file: paths never leave the user's directory", "[forward_file]")
{
    struct row { const char* text; std::size_t line; };
    auto c = GENERATE(values<row>({
        {"./../other/Maildir/\n", 1},
        {"# ok\n./Maildir/../../x/\n", 2},
        {"/var/mail/root/Maildir/\n", 1},
        {"./Maildir\n", 1},            // mbox file, not supported
        {"../Maildir/\n", 1},
        {".//Maildir/\n", 1},
        {"./a b/\n", 1},
        {"./\n", 1},
        {"&\n", 1},
        {"&alice@\n", 1},
        {"&<alice@example.org>\n", 1},
        {"&a@b,c@d\n", 1},
        {"&a\x01@example.org\n", 1},
    }));
    auto r = parse_forward_file(c.text, "example.org", false);
    CHECK_FALSE(r.error.empty());
    CHECK(r.error_line == c.line);
    CHECK(r.targets.empty());  // an unusable file yields nothing, never a partial list
}

TEST_CASE("forward file: program lines need allow_program_delivery", "[forward_file]")
{
    auto off = parse_forward_file("&a@example.org\n|/usr/bin/procmail -m x\n", "example.org", false);
    CHECK(off.error_line == 2);
    CHECK(off.error.find("allow_program_delivery") != std::string::npos);
    CHECK(off.targets.empty());
    auto on = parse_forward_file("&a@example.org\n| /usr/bin/procmail -m x \n", "example.org", true);
    REQUIRE(on.error.empty());
    REQUIRE(on.targets.size() == 2);
    CHECK(on.targets[1] == delivery_target{kind::program, "/usr/bin/procmail -m x"});
    CHECK_FALSE(parse_forward_file("|\n", "example.org", true).error.empty());
}

TEST_CASE("forward file: size and target limits", "[forward_file]")
{
    std::string big(max_forward_file_octets + 1, '#');
    CHECK_FALSE(parse_forward_file(big, "example.org", false).error.empty());
    std::string many;
    for (std::size_t i = 0; i <= max_forward_targets; ++i) many += "&u" + std::to_string(i) + "@example.org\n";
    CHECK_FALSE(parse_forward_file(many, "example.org", false).error.empty());
}

TEST_CASE("forward file names follow the extension order", "[forward_file]")
{
    using v = std::vector<std::string>;
    CHECK(forward_file_names("joe", "+") == v{".qmail"});
    CHECK(forward_file_names("Joe+News", "+") == v{".qmail-news", ".qmail-default", ".qmail"});
    CHECK(forward_file_names("joe-a-b", "-") == v{".qmail-a-b", ".qmail-a-default", ".qmail-default", ".qmail"});
    // An extension that is not a safe file name is skipped, never used as a path.
    CHECK(forward_file_names("joe+../x", "+") == v{".qmail-default", ".qmail"});
    CHECK(forward_file_names("owner-list+bob=example.org", "+") == v{".qmail-default", ".qmail"});
    CHECK(forward_file_names("+x", "+") == v{".qmail"});
}
