// outbound/route.hpp: PURE parsing of a next-hop such as relayhost ("[host]:port", "host:port").
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Trust: admin-supplied configuration text; malformed input is nullopt.
// Standards: Postfix relayhost syntax: brackets mean "no MX lookup".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postrider::outbound {

struct nexthop {
    std::string host;          // domain name or IP address text (no brackets)
    std::uint16_t port = 25;
    bool mx_lookup = true;     // false for "[host]": connect to host's A/AAAA (or the literal IP)
};

// parse_nexthop - "host", "host:port", "[host]", "[host]:port", "[ipv6]:port"; default_port when absent.
std::optional<nexthop> parse_nexthop(std::string_view text, std::uint16_t default_port);

}  // namespace postrider::outbound
