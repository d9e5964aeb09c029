// dns/answer_ttl.cpp: PURE TTL reader for raw DNS responses (see answer_ttl.hpp).
#include "dns/answer_ttl.hpp"

#include <algorithm>

namespace postrider::dns {
namespace {

constexpr std::size_t header_octets = 12;
constexpr std::size_t name_max_octets = 255;  // RFC 1035 2.3.4, wire form including the root label

// A bounds-checked view of the message.
struct reader {
    std::span<const std::uint8_t> msg;

    bool has(std::size_t pos, std::size_t n) const { return pos <= msg.size() && n <= msg.size() - pos; }
    std::uint16_t u16(std::size_t pos) const { return static_cast<std::uint16_t>(msg[pos] << 8 | msg[pos + 1]); }
    std::uint32_t u32(std::size_t pos) const
    {
        return static_cast<std::uint32_t>(msg[pos]) << 24 | static_cast<std::uint32_t>(msg[pos + 1]) << 16 |
               static_cast<std::uint32_t>(msg[pos + 2]) << 8 | msg[pos + 3];
    }

    // skip_name - the offset just after the name at pos (in the record, not where pointers led);
    //             the whole name is checked: labels in bounds, every pointer aimed before
    //             anything read so far, at most name_max_jumps of them, at most 255 octets.
    //             nullopt: malformed.
    std::optional<std::size_t> skip_name(std::size_t pos) const
    {
        std::optional<std::size_t> after;  // set at the first pointer
        std::size_t octets = 0, jumps = 0;
        std::size_t low = pos;  // lowest offset read so far
        for (;;) {
            if (!has(pos, 1)) return std::nullopt;
            const std::uint8_t len = msg[pos];
            if ((len & 0xC0) == 0xC0) {
                if (!has(pos, 2)) return std::nullopt;
                const std::size_t target = static_cast<std::size_t>(len & 0x3F) << 8 | msg[pos + 1];
                // Only to before everything read so far: no octet is read twice, so no loop,
                // whatever the pointers say (the jump cap is a second bound).
                if (target >= low || ++jumps > name_max_jumps) return std::nullopt;
                if (!after) after = pos + 2;
                pos = low = target;
                continue;
            }
            if ((len & 0xC0) != 0) return std::nullopt;  // 0x40/0x80: extended label types (RFC 6891 obsoleted)
            octets += 1u + len;
            if (octets > name_max_octets || !has(pos, 1u + len)) return std::nullopt;
            if (len == 0) return after ? *after : pos + 1;
            pos += 1u + len;
        }
    }
};

// ttl_value - RFC 2181 8: a TTL with the most significant bit set is treated as zero.
std::uint32_t ttl_value(std::uint32_t raw) { return (raw & 0x80000000u) ? 0 : raw; }

void take_min(std::optional<std::uint32_t>& slot, std::uint32_t v) { slot = slot ? std::min(*slot, v) : v; }

}  // namespace

std::optional<answer_ttls> read_answer_ttls(std::span<const std::uint8_t> msg, std::uint16_t type)
{
    const reader r{msg};
    if (!r.has(0, header_octets)) return std::nullopt;
    const std::size_t qd = r.u16(4), an = r.u16(6), ns = r.u16(8);
    if (qd > rr_max || an > rr_max || ns > rr_max) return std::nullopt;
    std::size_t pos = header_octets;
    for (std::size_t i = 0; i < qd; ++i) {
        auto next = r.skip_name(pos);
        if (!next || !r.has(*next, 4)) return std::nullopt;
        pos = *next + 4;  // QTYPE, QCLASS
    }
    answer_ttls out;
    for (std::size_t i = 0; i < an + ns; ++i) {
        auto next = r.skip_name(pos);
        if (!next || !r.has(*next, 10)) return std::nullopt;
        const std::uint16_t rtype = r.u16(*next);
        const std::uint32_t ttl = ttl_value(r.u32(*next + 4));
        const std::size_t rdlen = r.u16(*next + 8), rdata = *next + 10;
        if (!r.has(rdata, rdlen)) return std::nullopt;
        pos = rdata + rdlen;
        if (i < an) {
            if (rtype == type || rtype == rr_type_cname) take_min(out.answer, ttl);
        } else if (rtype == rr_type_soa && !out.negative) {
            // SOA RDATA: MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM (5 x 32 bits).
            auto mname_end = r.skip_name(rdata);
            auto rname_end = mname_end ? r.skip_name(*mname_end) : std::nullopt;
            if (!rname_end || *rname_end + 20 != pos) return std::nullopt;
            out.negative = std::min(ttl, ttl_value(r.u32(pos - 4)));
        }
    }
    return out;
}

std::uint32_t clamp_ttl(std::uint32_t ttl, std::uint32_t lo, std::uint32_t hi) { return std::clamp(ttl, lo, std::max(lo, hi)); }

}  // namespace postrider::dns
