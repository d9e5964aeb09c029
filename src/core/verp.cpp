// core/verp.cpp: PURE VERP sender rewrite (see verp.hpp).
#include "core/verp.hpp"

namespace postrider::core {

bool valid_verp_delimiters(std::string_view d) noexcept
{
    return d.size() == 2 && verp_delimiter_chars.find(d[0]) != std::string_view::npos &&
           verp_delimiter_chars.find(d[1]) != std::string_view::npos;
}

std::optional<std::string> verp_sender(std::string_view sender, std::string_view recipient,
                                       std::string_view delimiters)
{
    constexpr std::size_t max_local_part = 64;
    if (sender.empty() || recipient.empty() || !valid_verp_delimiters(delimiters)) return std::nullopt;
    const auto s_at = sender.rfind('@');
    const auto r_at = recipient.rfind('@');
    if (s_at == std::string_view::npos || r_at == std::string_view::npos) return std::nullopt;
    const auto s_local = sender.substr(0, s_at);
    const auto r_local = recipient.substr(0, r_at);
    if (s_local.empty() || r_local.empty() || s_local.front() == '"' || r_local.front() == '"') return std::nullopt;
    std::string local(s_local);
    local += delimiters[0];
    local += r_local;
    local += delimiters[1];
    local += recipient.substr(r_at + 1);
    if (local.size() > max_local_part) return std::nullopt;
    return local + std::string(sender.substr(s_at));
}

}  // namespace postrider::core
