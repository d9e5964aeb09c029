#include "support/catch.hpp"

#include "local/command_line.hpp"

#include <string>
#include <vector>

using namespace postrider::local;
using argv_t = std::vector<std::string>;

namespace {

argv_t split_ok(std::string_view text)
{
    auto r = split_command(text);
    INFO("text: " << std::string(text) << " error: " << r.error);
    REQUIRE(r);
    return r.argv;
}

std::string split_error(std::string_view text, const command_limits& limits = {})
{
    auto r = split_command(text, limits);
    INFO("text: " << std::string(text));
    REQUIRE_FALSE(r);
    CHECK(r.argv.empty());
    return r.error;
}

}  // namespace

TEST_CASE("command lines split into argv without a shell", "[command_line]")
{
    struct row {
        const char* text;
        argv_t want;
    };
    const row rows[] = {
        {"/usr/bin/list", {"/usr/bin/list"}},
        {"  /usr/bin/list\t-x  y ", {"/usr/bin/list", "-x", "y"}},
        {"/bin/x 'a b' \"c d\"", {"/bin/x", "a b", "c d"}},
        {"/bin/x a\\ b", {"/bin/x", "a b"}},
        {"/bin/x \"a\\\"b\" \"c\\\\d\" \"e\\nf\"", {"/bin/x", "a\"b", "c\\d", "e\\nf"}},  // \n stays literal
        {"/bin/x 'it\\'", {"/bin/x", "it\\"}},                                         // no escapes in ''
        {"/bin/x \"a\"'b'c", {"/bin/x", "abc"}},                                          // adjacent parts join
        {"/bin/x '' \"\"", {"/bin/x", "", ""}},                                           // empty words kept
        {"/bin/x '|;&<>()$`'", {"/bin/x", "|;&<>()$`"}},                                  // operators quoted
        {"/bin/x \\|", {"/bin/x", "|"}},
        {"/bin/x *.txt ~ {a,b} ?", {"/bin/x", "*.txt", "~", "{a,b}", "?"}},               // no globbing
        {"'/opt/my prog/run' --list=x", {"/opt/my prog/run", "--list=x"}},
        {"/bin/x caf\xc3\xa9", {"/bin/x", "caf\xc3\xa9"}},                                // 8-bit kept
    };
    for (const auto& r : rows) CHECK(split_ok(r.text) == r.want);
}

TEST_CASE("malformed or unsafe command lines are refused with a reason", "[command_line]")
{
    CHECK(split_error("") == "empty command");
    CHECK(split_error(" \t ") == "empty command");
    CHECK(split_error("''") == "program is not an absolute path (no PATH search)");
    CHECK(split_error("list -x") == "program is not an absolute path (no PATH search)");
    CHECK(split_error("./list") == "program is not an absolute path (no PATH search)");
    CHECK(split_error("/bin/x 'open") == "unterminated single quote");
    CHECK(split_error("/bin/x \"open\\\"") == "unterminated double quote");
    CHECK(split_error("/bin/x end\\") == "trailing backslash");
    CHECK(split_error(std::string("/bin/x a\0b", 10)) == "NUL in command");
    CHECK(split_error("/bin/x 'a\nb'") == "control character in command");
    CHECK(split_error("/bin/x \r") == "control character in command");
    CHECK(split_error("/bin/x \x7f") == "control character in command");
    for (const char* op : {"/bin/x | /bin/y", "/bin/x > f", "/bin/x < f", "/bin/x; /bin/y", "/bin/x && y",
                           "/bin/x $HOME", "/bin/x `id`", "/bin/x (y)", "/bin/x a>b"})
        CHECK(split_error(op).rfind("unquoted shell operator", 0) == 0);
}

TEST_CASE("command line limits: words and octets, at the edge", "[command_line]")
{
    const command_limits small{3, 20};
    CHECK(split_command("/bin/x a b", small));
    CHECK(split_error("/bin/x a b c", small) == "more than 3 arguments");
    CHECK(split_command("/bin/x 1234567890123", small));  // 20 octets
    CHECK(split_error("/bin/x 12345678901234", small) == "command longer than 20 octets");
    // The default limits: 64 words.
    std::string many = "/bin/x";
    for (int i = 1; i < 64; ++i) many += " a";
    CHECK(split_command(many));
    CHECK(split_error(many + " a") == "more than 64 arguments");
}
