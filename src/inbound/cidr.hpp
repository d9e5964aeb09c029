// inbound/cidr.hpp: client network lists (mynetworks) as IPv4/IPv6 CIDR blocks.
//
// Owns: parsing "a.b.c.d[/n]", "x:y::z[/n]" and "[x:y::z][/n]" (Postfix's
//       bracketed form), and matching a peer address against the list.
// Trust: network specs are the admin's (trusted, fallible: rejected with a
//        reason). Peer addresses come from the kernel (getpeername), textual.
//        An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) matches IPv4 blocks, so a
//        dual-stack listener cannot be used to slip past an IPv4 rule.
// PURE: no I/O, no inet_pton.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::inbound {

struct ip_address {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4
    bool v6 = false;
};

// parse_ip - dotted quad (no leading zeros) or RFC 4291 text (with "::" and an IPv4 tail).
std::optional<ip_address> parse_ip(std::string_view s);

struct cidr {
    ip_address net;
    unsigned prefix = 0;  // 0..32 or 0..128
    bool contains(const ip_address& a) const;
};

// parse_cidr - one block; host bits set are refused (1.2.3.4/24 is a typo, not 1.2.3.0/24).
std::optional<cidr> parse_cidr(std::string_view s, std::string& error);

class network_list {
public:
    // parse - every spec, or the first error in error.
    static std::optional<network_list> parse(const std::vector<std::string>& specs, std::string& error);
    // contains - the textual peer address is in one of the blocks (false if it does not parse).
    bool contains(std::string_view peer) const;
    bool empty() const noexcept { return blocks_.empty(); }

private:
    std::vector<cidr> blocks_;
};

}  // namespace postrider::inbound
