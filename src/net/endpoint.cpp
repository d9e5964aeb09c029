#include "net/endpoint.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <string>

namespace postrider::net {

std::optional<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view text)
{
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto host = text.substr(0, colon);
    auto port_text = text.substr(colon + 1);
    unsigned port = 0;
    auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (err != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
        return std::nullopt;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(std::string(host), ec);
    if (ec) return std::nullopt;
    return boost::asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(port));
}

}  // namespace postrider::net
