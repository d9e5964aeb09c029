#include "support/catch.hpp"

#include "local/program_address.hpp"

#include <optional>
#include <string>

using namespace postrider::local;

TEST_CASE("EXT and DEFAULT as qmail-command(8) sets them", "[program_address]")
{
    struct row {
        const char* local;
        const char* delimiters;
        const char* file;
        const char* ext;
        std::optional<std::string> matched;
    };
    const row rows[] = {
        {"joe", "+", ".qmail", "", std::nullopt},
        {"joe+list", "+", ".qmail-list", "list", std::nullopt},
        {"joe+list", "+", ".qmail-default", "list", "list"},
        {"joe-list-x", "-", ".qmail-list-default", "list-x", "x"},
        {"joe-list-x", "-", ".qmail-default", "list-x", "list-x"},
        {"Joe-List-X", "-", ".qmail-list-default", "List-X", "X"},   // the address keeps its case
        {"joe+a-b", "+-", ".qmail-a-default", "a-b", "b"},
        {"joe+a-b", "+-", ".qmail", "a-b", std::nullopt},            // the bare user's file: no DEFAULT
        {"joe-list", "-", ".qmail-listdefault", "list", std::nullopt}, // not a -default file
        {"+x", "+", ".qmail-default", "", std::nullopt},             // no user part
        {"joe+x", "", ".qmail", "", std::nullopt},                   // no delimiters configured
        {"joe-default", "-", ".qmail-default", "default", "default"},
    };
    for (const auto& r : rows) {
        INFO(r.local << " " << r.file);
        const auto e = extension_of(r.local, r.delimiters, r.file);
        CHECK(e.ext == r.ext);
        CHECK(e.matched == r.matched);
    }
}
