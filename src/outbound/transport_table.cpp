// outbound/transport_table.cpp: PURE transport table parsing and lookup (see transport_table.hpp).
#include "outbound/transport_table.hpp"

namespace postrider::outbound {
namespace {

// lower - ASCII lower case (domains are case-insensitive, RFC 5321 2.4).
std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// valid_domain - dot-separated labels of letters, digits and '-', 1..63 octets each, 255 in all.
bool valid_domain(std::string_view d)
{
    if (d.empty() || d.size() > 255) return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        const char c = d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-') return false;
            label = 0;
            continue;
        }
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (label == 0 && c == '-') || ++label > 63) return false;
    }
    return label > 0 && d.back() != '-';
}

// fields - the blank- or tab-separated words of a line.
std::vector<std::string_view> fields(std::string_view line)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

}  // namespace

std::optional<nexthop> transport_table::lookup(std::string_view domain) const
{
    const std::string d = lower(domain);
    if (auto it = routes_.find(d); it != routes_.end()) return it->second;
    // Nearest parent first: a.b.example.com tries .b.example.com, then .example.com, then .com.
    for (auto dot = d.find('.'); dot != std::string::npos; dot = d.find('.', dot + 1))
        if (auto it = routes_.find(std::string_view(d).substr(dot)); it != routes_.end()) return it->second;
    return std::nullopt;
}

transport_table_parse parse_transport_table(std::string_view text, std::uint16_t default_port)
{
    transport_table_parse out;
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const auto words = fields(line);
        if (words.empty() || words[0].front() == '#') continue;
        auto fail = [&](std::string m) { out.errors.push_back(table_error{number, std::move(m)}); };
        if (words.size() != 2) {
            fail("expected 'domain nexthop', got " + std::to_string(words.size()) + " fields");
            continue;
        }
        const bool parent = words[0].front() == '.';
        if (!valid_domain(parent ? words[0].substr(1) : words[0])) {
            fail("'" + std::string(words[0]) + "' is not a domain (or .domain)");
            continue;
        }
        auto hop = parse_nexthop(words[1], default_port);
        if (!hop) {
            fail("'" + std::string(words[1]) + "' is not host, host:port, [host] or [host]:port");
            continue;
        }
        const std::string key = lower(words[0]);
        if (out.table.routes_.contains(key)) {
            fail("duplicate route for " + key);
            continue;
        }
        if (out.table.routes_.size() >= transport_table_max_routes) {
            fail("more than " + std::to_string(transport_table_max_routes) + " routes");
            break;
        }
        out.table.routes_.emplace(key, std::move(*hop));
    }
    return out;
}

}  // namespace postrider::outbound
