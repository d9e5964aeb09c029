// outbound/transport_table_file.cpp: file reading for the transport table (the parser stays pure).
#include "outbound/transport_table_file.hpp"

#include <fstream>
#include <sstream>

namespace postrider::outbound {

transport_table load_transport_table(const std::filesystem::path& path, std::uint16_t default_port,
                                     std::vector<std::string>& errors)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        errors.push_back("transport_table: cannot read " + path.string());
        return {};
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto r = parse_transport_table(text.str(), default_port);
    for (const auto& e : r.errors) errors.push_back(path.string() + ":" + std::to_string(e.line) + ": " + e.message);
    if (!r.errors.empty()) return {};
    return std::move(r.table);
}

}  // namespace postrider::outbound
