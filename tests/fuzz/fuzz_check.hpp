// tests/fuzz/fuzz_check.hpp: invariant checks shared by the fuzz targets.
//
// Trust: test code; input is the fuzzer's arbitrary bytes.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace postrider::fuzz {

// require - abort (a fuzzer finding) when an invariant is broken.
inline void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

// crlf_clean - every CR is followed by LF, every LF preceded by CR, and it ends CRLF (or is empty).
inline bool crlf_clean(std::string_view s)
{
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'))
            return false;
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            return false;
    }
    return s.empty() || (s.size() >= 2 && s.substr(s.size() - 2) == "\r\n");
}

// no_controls - printable or 8-bit octets only.
inline bool no_controls(std::string_view s)
{
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f)
            return false;
    return true;
}

}  // namespace postrider::fuzz
