// outbound/domain_table.hpp: PURE parsing shared by the per-domain tables (transport, TLS policy).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the line format ("domain  value...", blanks or tabs between, '#' comment
//       lines, empty lines ignored, CRLF tolerated), the domain key check, and
//       the lookup rule: exact domain first (case-insensitive), then the nearest
//       ".parent" entry, which matches subdomains but not the parent itself
//       (Postfix transport(5) with parent_domain_matches_subdomains off).
// Trust: admin-supplied file text; every bad line is reported with its number.
// See also: transport_table.hpp, tls_policy.hpp (the tables), table_file.hpp (reading files).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::outbound {

struct table_error {
    std::size_t line = 0;  // 1-based
    std::string message;
};

// lower_domain - ASCII lower case (domains are case-insensitive, RFC 5321 2.4).
std::string lower_domain(std::string_view s);

// valid_domain - dot-separated labels of letters, digits and '-', 1..63 octets each, 255 in all.
bool valid_domain(std::string_view d);

// A value parser gets the fields after the domain; it returns the value, or nullopt and sets error.
template <class V>
using table_value_parser = std::function<std::optional<V>(std::span<const std::string_view> rest, std::string& error)>;

// parse_domain_lines - each non-comment line: parse the fields after the key with value, check the
//                      domain key, refuse duplicates and more than max entries (noun names an entry
//                      in messages: "route"). Keys are lower-cased.
template <class V>
void parse_domain_lines(std::string_view text, std::size_t max, std::string_view noun, const table_value_parser<V>& value,
                        std::map<std::string, V, std::less<>>& out, std::vector<table_error>& errors);

// find_domain - the entry for domain: exact, then the nearest ".parent"; nullptr when none.
template <class V>
const V* find_domain(const std::map<std::string, V, std::less<>>& table, std::string_view domain)
{
    const std::string d = lower_domain(domain);
    if (auto it = table.find(d); it != table.end()) return &it->second;
    // Nearest parent first: a.b.example.com tries .b.example.com, then .example.com, then .com.
    for (auto dot = d.find('.'); dot != std::string::npos; dot = d.find('.', dot + 1))
        if (auto it = table.find(std::string_view(d).substr(dot)); it != table.end()) return &it->second;
    return nullptr;
}

// split_fields - the blank- or tab-separated words of a line.
std::vector<std::string_view> split_fields(std::string_view line);

template <class V>
void parse_domain_lines(std::string_view text, std::size_t max, std::string_view noun, const table_value_parser<V>& value,
                        std::map<std::string, V, std::less<>>& out, std::vector<table_error>& errors)
{
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const auto words = split_fields(line);
        if (words.empty() || words[0].front() == '#') continue;
        auto fail = [&](std::string m) { errors.push_back(table_error{number, std::move(m)}); };
        const bool parent = words[0].front() == '.';
        std::string error;
        auto v = value(std::span<const std::string_view>(words).subspan(1), error);
        if (!v) {
            fail(std::move(error));
            continue;
        }
        if (!valid_domain(parent ? words[0].substr(1) : words[0])) {
            fail("'" + std::string(words[0]) + "' is not a domain (or .domain)");
            continue;
        }
        const std::string key = lower_domain(words[0]);
        if (out.contains(key)) {
            fail("duplicate " + std::string(noun) + " for " + key);
            continue;
        }
        if (out.size() >= max) {
            fail("more than " + std::to_string(max) + " entries");
            break;
        }
        out.emplace(key, std::move(*v));
    }
}

}  // namespace postrider::outbound
