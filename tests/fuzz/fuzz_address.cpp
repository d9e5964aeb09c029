// tests/fuzz/fuzz_address.cpp: libFuzzer target for smtp path/mailbox/HELO parsing.
// First byte: flags (bit 0 SMTPUTF8, bit 1 reverse path); the rest is the path text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/limits.hpp"
#include "fuzz_check.hpp"
#include "smtp/address.hpp"

using namespace postrider;

// check_box - a parsed mailbox obeys every promise address.hpp makes.
static void check_box(const smtp::mailbox& m, bool utf8)
{
    fuzz::require(!m.local().empty() && m.local().size() <= limits::local_part_octets, "local part length");
    fuzz::require(!m.domain().empty() && m.domain().size() <= limits::domain_octets, "domain length");
    fuzz::require(fuzz::no_controls(m.str()), "no control octets");
    fuzz::require(smtp::is_valid_utf8(m.str()), "valid UTF-8");
    if (!utf8)
        for (unsigned char c : m.str())
            fuzz::require(c < 0x80, "ASCII without SMTPUTF8");
    for (char c : m.domain())
        fuzz::require(!(c >= 'A' && c <= 'Z') || m.domain().front() == '[', "domain lower-cased");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const bool utf8 = data[0] & 1;
    const bool reverse = data[0] & 2;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto p = reverse ? smtp::parse_reverse_path(text, utf8) : smtp::parse_forward_path(text, utf8, "mx.example");
    if (p.ok() && p.box)
        check_box(*p.box, utf8);
    fuzz::require(!p.ok() || p.box || reverse, "only a reverse path may be null");
    if (const auto n = smtp::path_extent(text))
        fuzz::require(n <= text.size() && text[n - 1] == '>', "path_extent ends at '>'");
    if (const auto h = smtp::parse_helo_name(text))
        fuzz::require(fuzz::no_controls(*h) && !h->empty(), "HELO name printable");
    return 0;
}
