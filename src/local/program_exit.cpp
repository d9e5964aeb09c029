// local/program_exit.cpp: see program_exit.hpp.
#include "local/program_exit.hpp"

namespace postrider::local {
namespace {

using out = program_outcome::kind;

// permanent_status - the enhanced code of a permanent exit, or "" when the code is not one.
std::string permanent_status(int code)
{
    switch (code) {
    case 64: return "5.3.0";   // EX_USAGE
    case 65: return "5.6.0";   // EX_DATAERR: the message itself is bad
    case 70: return "5.3.0";   // EX_SOFTWARE
    case 76: return "5.5.0";   // EX_PROTOCOL
    case 77: return "5.7.0";   // EX_NOPERM
    case 78: return "5.3.5";   // EX_CONFIG
    case 100:                  // qmail's "hard error"
    case 112: return "5.3.0";  // qmail-command(8) lists it with the sysexits codes
    default: return {};
    }
}

// flatten - printable one-line form of untrusted output.
std::string flatten(std::string_view output, std::size_t max, bool truncated)
{
    std::string s;
    bool blank = true;  // drops leading blanks and collapses runs
    for (char c : output) {
        const auto u = static_cast<unsigned char>(c);
        const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        if (space) {
            if (!blank) s += ' ';
            blank = true;
            continue;
        }
        blank = false;
        s += (u < 0x20 || u >= 0x7f) ? '?' : c;  // the bounce's parts are us-ascii
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    if (s.size() > max) {
        s.resize(max);
        truncated = true;
    }
    if (truncated) s += " [...]";
    return s;
}

}  // namespace

program_outcome classify_exit(const program_end& end)
{
    if (end.how != program_end::kind::exited) return {out::failed_temporary, false, "4.3.0"};
    if (end.code == 0) return {out::delivered, false, "2.0.0"};
    if (end.code == 99) return {out::delivered, true, "2.0.0"};
    if (auto st = permanent_status(end.code); !st.empty()) return {out::failed_permanent, false, st};
    return {out::failed_temporary, false, "4.3.0"};
}

std::string describe(std::string_view program, const program_end& end, std::string_view output,
                     bool output_truncated, std::size_t max_output)
{
    std::string r = "program " + flatten(program, 256, false);
    switch (end.how) {
    case program_end::kind::exited: r += " exited " + std::to_string(end.code); break;
    case program_end::kind::signalled: r += " was killed by signal " + std::to_string(end.code); break;
    case program_end::kind::timed_out: r += " timed out (program_timeout) and was killed"; break;
    case program_end::kind::cancelled: r += " was stopped: the daemon is shutting down"; break;
    case program_end::kind::not_started: r += " could not be started"; break;
    }
    const auto text = flatten(output, max_output, output_truncated);
    if (!text.empty()) r += ": " + text;
    return r;
}

}  // namespace postrider::local
