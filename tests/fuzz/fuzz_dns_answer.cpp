// tests/fuzz/fuzz_dns_answer.cpp: libFuzzer target for dns::read_answer_ttls (raw DNS responses).
//
// Trust: the input plays an arbitrary DNS server (or an off-path spoofer) answering an MX query.
// Checks: no overread (ASan) and no hang (pointer loops are malformed); TTLs follow RFC 2181 8
//         (never above 2^31-1); the reading does not depend on the asked type beyond which
//         answer records count; every truncation of an accepted message is read without fault,
//         and the clamped cache time stays within its bounds.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dns/answer_ttl.hpp"
#include "fuzz_check.hpp"

using namespace postrider;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> msg(data, size);
    const auto mx = dns::read_answer_ttls(msg, dns::rr_type_mx);
    const auto a = dns::read_answer_ttls(msg, 1);
    fuzz::require(mx.has_value() == a.has_value(), "well-formedness does not depend on the asked type");
    if (!mx) return 0;
    fuzz::require(mx->negative == a->negative, "the negative TTL does not depend on the asked type");
    for (const auto& t : {mx->answer, mx->negative})
        if (t) {
            fuzz::require(*t <= 0x7fffffffu, "RFC 2181 8: TTL at most 2^31-1");
            const auto c = dns::clamp_ttl(*t, 5, 3600);
            fuzz::require(c >= 5 && c <= 3600, "clamped TTL within bounds");
        }
    // Truncated copies (in their own buffers, so ASan sees the new end) must be read safely too.
    for (std::size_t cut : {size / 2, size - 1}) {
        std::vector<std::uint8_t> part(data, data + cut);
        (void)dns::read_answer_ttls(part, dns::rr_type_mx);
    }
    return 0;
}
