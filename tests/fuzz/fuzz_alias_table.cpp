// tests/fuzz/fuzz_alias_table.cpp: libFuzzer target for the alias table, the RFC 5322
// address-list parser under it, and the forward-file parser (user-written files).
// Invariants: a parse with errors yields an empty table / no targets; every member the
// table returns is a plain address; a maildir target never contains ".." or starts with
// '/'; a program target appears only when allowed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "local/address_list.hpp"
#include "local/alias_table.hpp"
#include "local/forward_file.hpp"

using namespace postrider;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    auto list = local::parse_address_list(in);
    fuzz::require(list.error.empty() || list.addresses.empty(), "an address-list error yields nothing");
    for (const auto& a : list.addresses) fuzz::require(!a.empty(), "no empty address");

    auto aliases = local::parse_alias_table(in);
    if (aliases.errors.empty()) {
        // Look up the first key, if any: every member must be qualified and plain.
        const auto colon = in.find(':');
        if (colon != std::string_view::npos && colon > 0 && colon < 64) {
            std::string key(in.substr(0, colon));
            if (auto members = aliases.table.lookup(key, "example.org", "+"))
                for (const auto& m : *members) fuzz::require(local::plain_address(m), "alias members are plain addresses");
        }
    }

    for (bool allow : {false, true}) {
        auto f = local::parse_forward_file(in, "example.org", allow);
        fuzz::require(f.error.empty() || f.targets.empty(), "a bad forward file yields no targets");
        for (const auto& t : f.targets) {
            using k = local::delivery_target::kind;
            if (t.type == k::maildir) {
                fuzz::require(local::safe_relative_path(t.value), "maildir targets are safe relative paths");
            }
            if (t.type == k::program) fuzz::require(allow, "program only when allowed");
            if (t.type == k::address) fuzz::require(local::plain_address(t.value), "forward targets are plain");
        }
    }
    return 0;
}
