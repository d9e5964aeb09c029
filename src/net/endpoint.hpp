// net/endpoint.hpp: "host:port" text from the configuration into a TCP endpoint.
//
// Trust: admin-supplied text; malformed input is an error value, not a throw.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string_view>

namespace postrider::net {

// parse_endpoint - "127.0.0.1:2525", "[::1]:2525", "0.0.0.0:25"; numeric addresses only.
std::optional<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text);

}  // namespace postrider::net
