// tests/fuzz/fuzz_command.cpp: libFuzzer target for smtp::parse_command and its argument splitters.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/command.hpp"

using namespace postrider;

// within - v is a view into whole (or empty).
static bool within(std::string_view v, std::string_view whole)
{
    return v.empty() || (v.data() >= whole.data() && v.data() + v.size() <= whole.data() + whole.size());
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const auto cmd = smtp::parse_command(line);
    fuzz::require(within(cmd.arg, line) && within(cmd.name, line), "command views stay in the line");
    fuzz::require(cmd.kind != smtp::verb::empty || cmd.arg.empty(), "empty has no argument");
    for (auto prefix : {"FROM:", "TO:"}) {
        const auto p = smtp::split_path_argument(cmd.arg, prefix);
        fuzz::require(!p.ok || (p.path.size() >= 2 && p.path.front() == '<' && p.path.back() == '>'),
                      "a split path is bracketed");
        fuzz::require(within(p.path, line) && within(p.params, line), "path views stay in the line");
    }
    const auto b = smtp::parse_bdat(cmd.arg);
    fuzz::require(!b.syntax_ok || b.count_ok, "syntax_ok implies count_ok");
    return 0;
}
