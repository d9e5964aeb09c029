// outbound/transport_table.cpp: PURE transport table parsing and lookup (see transport_table.hpp).
#include "outbound/transport_table.hpp"

namespace postrider::outbound {

std::optional<nexthop> transport_table::lookup(std::string_view domain) const
{
    if (const auto* hop = find_domain(routes_, domain)) return *hop;
    return std::nullopt;
}

transport_table_parse parse_transport_table(std::string_view text, std::uint16_t default_port)
{
    transport_table_parse out;
    const table_value_parser<nexthop> value = [default_port](std::span<const std::string_view> rest,
                                                             std::string& error) -> std::optional<nexthop> {
        if (rest.size() != 1) {
            error = "expected 'domain nexthop', got " + std::to_string(rest.size() + 1) + " fields";
            return std::nullopt;
        }
        auto hop = parse_nexthop(rest[0], default_port);
        if (!hop) error = "'" + std::string(rest[0]) + "' is not host, host:port, [host] or [host]:port";
        return hop;
    };
    parse_domain_lines(text, transport_table_max_routes, "route", value, out.table.routes_, out.errors);
    return out;
}

}  // namespace postrider::outbound
