// dns/answer_ttl.hpp: PURE, bounded reader of the TTLs in a raw DNS response.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Why: c-ares 1.18's ares_parse_mx_reply drops TTLs, so the resolver reads them
//      from the raw answer (abuf) itself to cache MX answers no longer than
//      their owners allow (and negative answers per RFC 2308).
// Trust: the message is UNTRUSTED network bytes. Every read is bounds-checked;
//        names are walked label by label and a compression pointer is followed
//        only to before every octet read so far (and at most name_max_jumps
//        times), so a pointer loop or a pointer past the end is "malformed",
//        never a hang or an overread. Record counts are capped (rr_max). Anything malformed is
//        nullopt: the caller then uses its shortest cache time.
// Standards: RFC 1035 4.1 (format, 4.1.4 compression), RFC 2181 8 (a TTL with
//            the top bit set means 0), RFC 2308 5 (negative TTL from the SOA).
// See also: resolver.cpp (the user), docs/remote-delivery.md ("Cache").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace postrider::dns {

inline constexpr std::size_t name_max_jumps = 64;  // a 255-octet name has at most 127 labels; 64 pointers is plenty
inline constexpr std::size_t rr_max = 1024;        // records per section read; more is malformed for our purpose

inline constexpr std::uint16_t rr_type_cname = 5;
inline constexpr std::uint16_t rr_type_soa = 6;
inline constexpr std::uint16_t rr_type_mx = 15;

struct answer_ttls {
    // Smallest TTL of the answer section's records of the asked type and of the CNAMEs
    // leading to them (a chain is valid only as long as its shortest link); empty: none.
    std::optional<std::uint32_t> answer;
    // RFC 2308 5: min(SOA TTL, SOA MINIMUM) of the first SOA in the authority section;
    // empty: no SOA (RFC 2308 5: such a negative answer should not be cached).
    std::optional<std::uint32_t> negative;
};

// read_answer_ttls - the TTLs of a DNS response for records of type; nullopt when the
//                    message is malformed (truncated, bad name, pointer loop, bad lengths).
std::optional<answer_ttls> read_answer_ttls(std::span<const std::uint8_t> msg, std::uint16_t type);

// clamp_ttl - a TTL as a cache lifetime in seconds within [lo, hi].
std::uint32_t clamp_ttl(std::uint32_t ttl, std::uint32_t lo, std::uint32_t hi);

}  // namespace postrider::dns
