// outbound/transport_table.hpp: PURE static per-domain routes (qmail smtproutes, Postfix transport).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the table format and its parser; lookup of a recipient domain.
// Format: one route per line, "domain  nexthop" (domain_table.hpp: blanks or
//         tabs between, '#' comment lines, empty lines ignored). nexthop is relayhost
//         syntax (route.hpp): "host" / "host:port" (MX lookup of host),
//         "[host]" / "[host]:port" / "[ip]:port" (no MX lookup). The domain is
//         matched exactly, case-insensitively; "." before a domain
//         (".example.com") matches its subdomains but not the domain itself,
//         as in Postfix transport(5) with parent_domain_matches_subdomains off.
// Trust: admin-supplied file text; every bad line is reported with its number,
//        nothing is half-accepted. Domains are checked (letters, digits, '-', '.').
// See also: table_file.hpp (reading the file), pool.hpp (the user),
//           docs/remote-delivery.md ("Routing").
#pragma once

#include "outbound/domain_table.hpp"
#include "outbound/route.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::outbound {

inline constexpr std::size_t transport_table_max_routes = 100000;

struct transport_table_parse;

class transport_table {
public:
    // lookup - the next hop for a recipient domain (exact entry first, then the
    //          nearest ".parent" entry), or nullopt: use MX / relayhost.
    std::optional<nexthop> lookup(std::string_view domain) const;
    std::size_t size() const noexcept { return routes_.size(); }
    bool empty() const noexcept { return routes_.empty(); }

private:
    friend transport_table_parse parse_transport_table(std::string_view text, std::uint16_t default_port);
    std::map<std::string, nexthop, std::less<>> routes_;  // key: lower-case domain, or ".parent"
};

struct transport_table_parse {
    transport_table table;
    std::vector<table_error> errors;
};

// parse_transport_table - every line parsed; errors carry line numbers; default_port for
//                         next hops without a port (remote_smtp_port).
transport_table_parse parse_transport_table(std::string_view text, std::uint16_t default_port);

}  // namespace postrider::outbound
