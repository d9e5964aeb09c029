// outbound/route.cpp: PURE next-hop parsing (see route.hpp).
#include "outbound/route.hpp"

namespace postrider::outbound {
namespace {

// parse_port - 1..65535.
std::optional<std::uint16_t> parse_port(std::string_view s)
{
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

// host_ok - letters, digits, '-', '.', '_' and ':' (IPv6 inside brackets); 1..255 octets.
bool host_ok(std::string_view h)
{
    if (h.empty() || h.size() > 255) return false;
    for (char c : h) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                  c == '_' || c == ':';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::optional<nexthop> parse_nexthop(std::string_view text, std::uint16_t default_port)
{
    nexthop n;
    n.port = default_port;
    std::string_view rest;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        n.host = std::string(text.substr(1, close - 1));
        n.mx_lookup = false;
        rest = text.substr(close + 1);
    } else {
        auto colon = text.rfind(':');
        n.host = std::string(text.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
        if (n.host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs brackets
    }
    if (!host_ok(n.host)) return std::nullopt;
    if (!rest.empty()) {
        if (rest.front() != ':') return std::nullopt;
        auto p = parse_port(rest.substr(1));
        if (!p) return std::nullopt;
        n.port = *p;
    }
    return n;
}

}  // namespace postrider::outbound
