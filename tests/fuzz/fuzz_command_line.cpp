// tests/fuzz/fuzz_command_line.cpp: libFuzzer target for local::split_command (the "|command"
// lines of user-written forward files).
// Invariants: a refusal has a reason and no argv; an accepted line has 1..max_args words, an
// absolute program, no NUL or control octet but tab in any word, no more octets than the
// input; and the argv survives a round trip through single quoting (the grammar loses nothing).
// The same bytes as a program's output (local::describe): one line of printable ASCII, bounded.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "local/command_line.hpp"
#include "local/program_exit.hpp"

using namespace postrider;

namespace {

// quote - one word in single quotes; a quote inside becomes '\''.
std::string quote(const std::string& w)
{
    std::string q = "'";
    for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

bool controls_but_tab(const std::string& w)
{
    for (unsigned char c : w)
        if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto why = local::describe("/bin/x", {local::program_end::kind::exited, 100}, in, false, 64);
    for (unsigned char c : why) fuzz::require(c >= 0x20 && c < 0x7f, "a reason is printable ASCII");
    fuzz::require(why.size() <= std::string("program /bin/x exited 100: ").size() + 64 + 6, "a reason is bounded");
    const local::command_limits limits;
    const auto r = local::split_command(in, limits);
    if (!r) {
        fuzz::require(!r.error.empty() && r.argv.empty(), "a refusal has a reason and no argv");
        return 0;
    }
    fuzz::require(!r.argv.empty() && r.argv.size() <= limits.max_args, "1..max_args words");
    fuzz::require(!r.argv[0].empty() && r.argv[0][0] == '/', "the program is an absolute path");
    std::size_t octets = 0;
    std::string requoted;
    for (const auto& w : r.argv) {
        fuzz::require(!controls_but_tab(w), "no control octets in a word");
        octets += w.size();
        requoted += (requoted.empty() ? "" : " ") + quote(w);
    }
    fuzz::require(octets <= in.size(), "words are never longer than the line");
    const auto again = local::split_command(requoted, {limits.max_args, requoted.size()});
    fuzz::require(again && again.argv == r.argv, "argv survives a round trip through quoting");
    return 0;
}
