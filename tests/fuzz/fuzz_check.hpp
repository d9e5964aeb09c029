// tests/fuzz/fuzz_check.hpp: invariant checks shared by the fuzz targets.
//
// Trust: test code; input is the fuzzer's arbitrary bytes.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include "support/crlf.hpp"

namespace postrider::fuzz {

using postrider::test::crlf_clean;

// require - abort (a fuzzer finding) when an invariant is broken.
inline void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
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
