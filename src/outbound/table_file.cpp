// outbound/table_file.cpp: file reading for the per-domain tables (the parsers stay pure).
#include "outbound/table_file.hpp"

#include <fstream>
#include <optional>
#include <sstream>

namespace postrider::outbound {
namespace {

// read_all - the file's bytes, or nullopt with "<what>: cannot read <path>" in errors.
std::optional<std::string> read_all(const std::filesystem::path& path, const char* what, std::vector<std::string>& errors)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        errors.push_back(std::string(what) + ": cannot read " + path.string());
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// take - the parsed table, or an empty one with "path:line: message" for each error (nothing half-loaded).
template <class Parse>
auto take(Parse r, const std::filesystem::path& path, std::vector<std::string>& errors) -> decltype(r.table)
{
    for (const auto& e : r.errors) errors.push_back(path.string() + ":" + std::to_string(e.line) + ": " + e.message);
    if (!r.errors.empty()) return {};
    return std::move(r.table);
}

}  // namespace

transport_table load_transport_table(const std::filesystem::path& path, std::uint16_t default_port,
                                     std::vector<std::string>& errors)
{
    auto text = read_all(path, "transport_table", errors);
    if (!text) return {};
    return take(parse_transport_table(*text, default_port), path, errors);
}

tls_policy_table load_tls_policy_table(const std::filesystem::path& path, std::vector<std::string>& errors)
{
    auto text = read_all(path, "tls_policy_table", errors);
    if (!text) return {};
    return take(parse_tls_policy_table(*text), path, errors);
}

}  // namespace postrider::outbound
