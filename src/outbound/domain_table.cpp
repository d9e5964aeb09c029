// outbound/domain_table.cpp: PURE helpers of the per-domain tables (see domain_table.hpp).
#include "outbound/domain_table.hpp"

namespace postrider::outbound {

std::string lower_domain(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

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

std::vector<std::string_view> split_fields(std::string_view line)
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

}  // namespace postrider::outbound
