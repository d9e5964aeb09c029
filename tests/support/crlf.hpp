// tests/support/crlf.hpp: the CRLF invariant checked by unit tests and fuzzers alike.
#pragma once

#include <cstddef>
#include <string_view>

namespace postrider::test {

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

}  // namespace postrider::test
