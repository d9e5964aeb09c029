// outbound/tls_policy.cpp: PURE TLS policy levels and table (see tls_policy.hpp).
#include "outbound/tls_policy.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace postrider::outbound {
namespace {

constexpr std::array<std::pair<std::string_view, tls_level>, 5> levels{{
    {"none", tls_level::none},
    {"may", tls_level::may},
    {"encrypt", tls_level::encrypt},
    {"verify", tls_level::verify},
    {"secure", tls_level::secure},
}};

}  // namespace

std::optional<tls_level> parse_tls_level(std::string_view text)
{
    for (const auto& [name, level] : levels)
        if (name == text) return level;
    return std::nullopt;
}

std::string_view level_name(tls_level l)
{
    for (const auto& [name, level] : levels)
        if (level == l) return name;
    return "may";
}

std::optional<tls_level> tls_policy_table::lookup(std::string_view domain) const
{
    if (const auto* l = find_domain(levels_, domain)) return *l;
    return std::nullopt;
}

bool tls_policy_table::any_verifies() const
{
    return std::any_of(levels_.begin(), levels_.end(), [](const auto& kv) { return verifies(kv.second); });
}

tls_policy_parse parse_tls_policy_table(std::string_view text)
{
    tls_policy_parse out;
    const table_value_parser<tls_level> value = [](std::span<const std::string_view> rest,
                                                   std::string& error) -> std::optional<tls_level> {
        if (rest.size() != 1) {
            // Postfix attributes (match=, protocols=, ...) are not supported: refuse rather than ignore them.
            error = "expected 'domain level', got " + std::to_string(rest.size() + 1) + " fields";
            return std::nullopt;
        }
        auto l = parse_tls_level(rest[0]);
        if (!l) error = "'" + std::string(rest[0]) + "' is not a TLS level (none, may, encrypt, verify, secure)";
        return l;
    };
    parse_domain_lines(text, tls_policy_max_entries, "policy", value, out.table.levels_, out.errors);
    return out;
}

}  // namespace postrider::outbound
