#include "config/units.hpp"

#include <charconv>
#include <limits>

namespace postrider::config {
namespace {

// split_number - the leading decimal number and what follows it.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text)
{
    std::uint64_t value = 0;
    auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (err != std::errc{} || end == text.data()) return std::nullopt;
    return std::pair{value, text.substr(static_cast<std::size_t>(end - text.data()))};
}

std::optional<std::uint64_t> scaled(std::uint64_t value, std::uint64_t factor)
{
    if (value > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
    return value * factor;
}

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text)
{
    auto parts = split_number(text);
    if (!parts) return std::nullopt;
    auto [value, unit] = *parts;
    std::uint64_t factor = 0;
    if (unit.empty() || unit == "s") factor = 1;
    else if (unit == "m") factor = 60;
    else if (unit == "h") factor = 3600;
    else if (unit == "d") factor = 86400;
    else if (unit == "w") factor = 7 * 86400;
    else return std::nullopt;
    auto secs = scaled(value, factor);
    if (!secs || *secs > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) return std::nullopt;
    return std::chrono::seconds(static_cast<std::int64_t>(*secs));
}

std::optional<std::uint64_t> parse_size(std::string_view text)
{
    auto parts = split_number(text);
    if (!parts) return std::nullopt;
    auto [value, unit] = *parts;
    if (unit.empty()) return value;
    if (unit == "k" || unit == "K") return scaled(value, 1024);
    if (unit == "M") return scaled(value, 1024 * 1024);
    if (unit == "G") return scaled(value, 1024 * 1024 * 1024);
    return std::nullopt;
}

}  // namespace postrider::config
