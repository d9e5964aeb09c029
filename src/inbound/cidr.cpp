#include "inbound/cidr.hpp"

namespace postrider::inbound {

namespace {

// parse_v4 - exactly four decimal octets 0..255, no leading zeros, into out[0..3].
bool parse_v4(std::string_view s, std::uint8_t* out)
{
    for (int i = 0; i < 4; ++i) {
        const auto dot = i < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) return false;
        const auto part = s.substr(0, dot);
        if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
        unsigned v = 0;
        for (char c : part) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v > 255) return false;
        out[i] = static_cast<std::uint8_t>(v);
        s.remove_prefix(i < 3 ? dot + 1 : dot);
    }
    return s.empty();
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// parse_groups - "h:h:h" (possibly empty) into 16-bit groups; an IPv4 tail counts as two.
bool parse_groups(std::string_view s, std::vector<std::uint16_t>& out, bool allow_v4_tail)
{
    if (s.empty()) return true;
    while (true) {
        const auto colon = s.find(':');
        const auto part = s.substr(0, colon);
        if (colon == std::string_view::npos && allow_v4_tail && part.find('.') != std::string_view::npos) {
            std::uint8_t b[4];
            if (!parse_v4(part, b)) return false;
            out.push_back(static_cast<std::uint16_t>(b[0] << 8 | b[1]));
            out.push_back(static_cast<std::uint16_t>(b[2] << 8 | b[3]));
            return true;
        }
        if (part.empty() || part.size() > 4) return false;
        unsigned v = 0;
        for (char c : part) {
            const int h = hex_value(c);
            if (h < 0) return false;
            v = v << 4 | static_cast<unsigned>(h);
        }
        out.push_back(static_cast<std::uint16_t>(v));
        if (colon == std::string_view::npos) return true;
        s.remove_prefix(colon + 1);
    }
}

bool parse_v6(std::string_view s, std::uint8_t* out)
{
    std::vector<std::uint16_t> head, tail;
    const auto gap = s.find("::");
    if (gap == std::string_view::npos) {
        if (!parse_groups(s, head, true) || head.size() != 8) return false;
    } else {
        if (s.find("::", gap + 1) != std::string_view::npos) return false;
        if (!parse_groups(s.substr(0, gap), head, false) || !parse_groups(s.substr(gap + 2), tail, true)) return false;
        if (head.size() + tail.size() > 7) return false;  // "::" stands for at least one group
    }
    std::vector<std::uint16_t> all = head;
    all.resize(8 - tail.size(), 0);
    all.insert(all.end(), tail.begin(), tail.end());
    for (int i = 0; i < 8; ++i) {
        out[2 * i] = static_cast<std::uint8_t>(all[static_cast<std::size_t>(i)] >> 8);
        out[2 * i + 1] = static_cast<std::uint8_t>(all[static_cast<std::size_t>(i)] & 0xFF);
    }
    return true;
}

// unmap - ::ffff:a.b.c.d as the IPv4 address it carries (RFC 4291 2.5.5.2).
ip_address unmap(const ip_address& a)
{
    if (!a.v6) return a;
    for (int i = 0; i < 10; ++i)
        if (a.bytes[static_cast<std::size_t>(i)] != 0) return a;
    if (a.bytes[10] != 0xFF || a.bytes[11] != 0xFF) return a;
    ip_address v4;
    for (int i = 0; i < 4; ++i) v4.bytes[static_cast<std::size_t>(i)] = a.bytes[static_cast<std::size_t>(12 + i)];
    return v4;
}

}  // namespace

std::optional<ip_address> parse_ip(std::string_view s)
{
    ip_address a;
    if (parse_v4(s, a.bytes.data())) return a;
    a.v6 = true;
    if (s.find(':') != std::string_view::npos && parse_v6(s, a.bytes.data())) return a;
    return std::nullopt;
}

bool cidr::contains(const ip_address& raw) const
{
    const ip_address a = net.v6 ? raw : unmap(raw);
    if (a.v6 != net.v6) return false;
    unsigned bits = prefix;
    for (std::size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
        const std::uint8_t mask = bits >= 8 ? 0xFF : static_cast<std::uint8_t>(0xFF << (8 - bits));
        if ((a.bytes[i] & mask) != (net.bytes[i] & mask)) return false;
    }
    return true;
}

std::optional<cidr> parse_cidr(std::string_view s, std::string& error)
{
    const auto slash = s.find('/');
    auto addr = s.substr(0, slash);
    if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') addr = addr.substr(1, addr.size() - 2);
    auto ip = parse_ip(addr);
    if (!ip) {
        error = "'" + std::string(s) + "': not an IPv4 or IPv6 address";
        return std::nullopt;
    }
    const unsigned max = ip->v6 ? 128 : 32;
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
        const auto p = s.substr(slash + 1);
        if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) {
            error = "'" + std::string(s) + "': bad prefix length";
            return std::nullopt;
        }
        prefix = 0;
        for (char c : p) {
            if (c < '0' || c > '9') {
                error = "'" + std::string(s) + "': bad prefix length";
                return std::nullopt;
            }
            prefix = prefix * 10 + static_cast<unsigned>(c - '0');
        }
        if (prefix > max) {
            error = "'" + std::string(s) + "': prefix longer than " + std::to_string(max);
            return std::nullopt;
        }
    }
    cidr c{*ip, prefix};
    // Host bits set: refuse rather than guess what the admin meant.
    cidr exact{*ip, max};
    ip_address masked = *ip;
    for (unsigned bit = prefix; bit < max; ++bit)
        masked.bytes[bit / 8] = static_cast<std::uint8_t>(masked.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    if (!exact.contains(masked)) {
        error = "'" + std::string(s) + "': host bits set after the prefix";
        return std::nullopt;
    }
    return c;
}

std::optional<network_list> network_list::parse(const std::vector<std::string>& specs, std::string& error)
{
    network_list out;
    for (const auto& s : specs) {
        auto c = parse_cidr(s, error);
        if (!c) return std::nullopt;
        out.blocks_.push_back(*c);
    }
    return out;
}

bool network_list::contains(std::string_view peer) const
{
    const auto a = parse_ip(peer);
    if (!a) return false;
    for (const auto& b : blocks_)
        if (b.contains(*a)) return true;
    return false;
}

}  // namespace postrider::inbound
