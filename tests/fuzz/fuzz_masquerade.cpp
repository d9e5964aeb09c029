// tests/fuzz/fuzz_masquerade.cpp: libFuzzer target for core::masquerade_header (header
// sections of locally injected mail). Rules are fixed: masquerade example.com, except
// dev.example.com, exception root, all classes.
// Invariants: the rewrite replaces a prefix of the header section only (nothing at or after
// the first empty line is touched); it never changes the number of lines; applying it again
// changes nothing (the result is stable); a changed message still contains every octet that
// is not part of a rewritten domain, i.e. only "example.com" suffixes shrink.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/masquerade.hpp"
#include "fuzz_check.hpp"

using namespace postrider;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    core::masquerade_rules r;
    r.domains = {"!dev.example.com", "example.com"};
    r.exceptions = {"root"};
    r.classes = core::masq_header_sender | core::masq_header_recipient;
    const auto h = core::masquerade_header(in, r);
    // Envelope form: never longer, and stable.
    if (auto a = core::masquerade_address(in, r)) {
        fuzz::require(a->size() < in.size(), "masquerading only shortens an address");
        fuzz::require(!core::masquerade_address(*a, r), "a masqueraded address is final");
    }
    if (!h) return 0;
    fuzz::require(h->replaced <= in.size(), "replaces part of the input");
    const auto head = in.substr(0, h->replaced);
    fuzz::require(head.find("\r\n\r\n") == std::string_view::npos && !head.starts_with("\r\n"),
                  "never reaches past the header section");
    fuzz::require(h->header != head, "a rewrite changes something");
    fuzz::require(h->header.size() < head.size(), "masquerading only shortens");
    fuzz::require(std::count(h->header.begin(), h->header.end(), '\n') == std::count(head.begin(), head.end(), '\n'),
                  "same number of lines");
    const std::string out = h->header + std::string(in.substr(h->replaced));
    fuzz::require(!core::masquerade_header(out, r), "the result is stable");
    return 0;
}
