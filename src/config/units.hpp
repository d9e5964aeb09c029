// config/units.hpp: "300s", "5m", "5d", "25M" style values from configuration text.
//
// Trust: admin text; errors are values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace postrider::config {

// parse_duration - digits with an optional unit s, m, h, d, w (default seconds).
std::optional<std::chrono::seconds> parse_duration(std::string_view text);
// parse_size - digits with an optional unit k, M, G (powers of 1024; default octets).
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace postrider::config
