// pickup/drop_format.cpp: PURE maildrop file codec (see drop_format.hpp).
#include "pickup/drop_format.hpp"

#include "queue/record.hpp"

namespace postrider::pickup {
namespace {

constexpr std::uint32_t magic = 0x31445250;  // "PRD1" little-endian
constexpr std::size_t head_octets = drop_head_octets;

void put_le(std::string& out, std::uint64_t v, int n)
{
    for (int i = 0; i < n; ++i) out += static_cast<char>(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_str(std::string& out, std::string_view s)
{
    put_le(out, s.size(), 4);
    out += s;
}

// cursor - bounds-checked reader; ok turns false on any overrun and stays false.
struct cursor {
    std::string_view in;
    bool ok = true;
    std::uint64_t le(int n)
    {
        if (!ok || in.size() < static_cast<std::size_t>(n)) return ok = false, 0;
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[static_cast<std::size_t>(i)])) << (8 * i);
        in.remove_prefix(static_cast<std::size_t>(n));
        return v;
    }
    std::string str()
    {
        auto n = le(4);
        if (!ok || in.size() < n) return ok = false, std::string{};
        std::string s(in.substr(0, n));
        in.remove_prefix(n);
        return s;
    }
};

}  // namespace

std::string encode_drop(const dropped_message& m)
{
    std::string p;
    put_str(p, m.sender);
    put_le(p, m.recipients.size(), 4);
    for (const auto& r : m.recipients) {
        put_str(p, r.address);
        put_le(p, r.notify, 1);
    }
    put_str(p, m.envid);
    put_le(p, (m.ret_full ? 1u : 0u) | (m.body_8bit ? 2u : 0u) | (m.smtputf8 ? 4u : 0u) | (m.verp ? 8u : 0u), 1);
    put_str(p, m.protocol);
    put_str(p, m.helo);
    put_str(p, m.content);
    put_str(p, m.verp_delimiters);
    std::string out;
    put_le(out, magic, 4);
    put_le(out, drop_format_version, 2);
    put_le(out, p.size(), 4);
    out += p;
    put_le(out, queue::crc32(out), 4);
    return out;
}

drop_decode decode_drop(std::string_view bytes)
{
    cursor head{bytes};
    if (head.le(4) != magic || !head.ok) return {std::nullopt, "not a maildrop file (bad magic)"};
    const auto version = head.le(2);
    if (version < oldest_drop_format_version || version > drop_format_version)
        return {std::nullopt, "unknown maildrop format version " + std::to_string(version)};
    const auto len = head.le(4);
    if (len > max_drop_payload) return {std::nullopt, "payload length too large"};
    if (bytes.size() != head_octets + len + 4) return {std::nullopt, "file length does not match its payload length (truncated?)"};
    cursor tail{bytes.substr(head_octets + len)};
    if (tail.le(4) != queue::crc32(bytes.substr(0, head_octets + len))) return {std::nullopt, "CRC mismatch"};

    cursor c{bytes.substr(head_octets, len)};
    dropped_message m;
    m.sender = c.str();
    const auto n = c.le(4);
    if (n > c.in.size() / 5) return {std::nullopt, "recipient count larger than the payload"};
    for (std::uint64_t i = 0; i < n && c.ok; ++i) {
        drop_recipient r;
        r.address = c.str();
        r.notify = static_cast<std::uint8_t>(c.le(1));
        m.recipients.push_back(std::move(r));
    }
    m.envid = c.str();
    const auto flags = c.le(1);
    if (flags > 15) return {std::nullopt, "unknown flag bits"};
    m.ret_full = flags & 1;
    m.body_8bit = flags & 2;
    m.smtputf8 = flags & 4;
    m.verp = flags & 8;
    m.protocol = c.str();
    m.helo = c.str();
    m.content = c.str();
    if (version >= 2) m.verp_delimiters = c.str();
    if (!c.ok) return {std::nullopt, "a field runs past the end of the payload"};
    if (!c.in.empty()) return {std::nullopt, "trailing bytes after the last field"};
    return {std::move(m), {}};
}

}  // namespace postrider::pickup
