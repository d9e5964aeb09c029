// local/program_address.cpp: see program_address.hpp.
#include "local/program_address.hpp"

#include "local/mailbox_table.hpp"

namespace postrider::local {

address_extension extension_of(std::string_view local_part, std::string_view delimiters,
                               std::string_view forward_file)
{
    address_extension r;
    const auto first = delimiters.empty() ? std::string_view::npos : local_part.find_first_of(delimiters);
    if (first == std::string_view::npos || first == 0) return r;  // no user part: no extension
    r.ext = std::string(local_part.substr(first + 1));
    constexpr std::string_view file_prefix = ".qmail-", dflt = "default";
    if (forward_file.substr(0, file_prefix.size()) != file_prefix) return r;
    const auto file_ext = forward_file.substr(file_prefix.size());
    if (file_ext.size() < dflt.size() || file_ext.substr(file_ext.size() - dflt.size()) != dflt) return r;
    // ".qmail-a-default": the stem "a-" ends with a delimiter; ".qmail-default": empty stem.
    const auto stem = file_ext.substr(0, file_ext.size() - dflt.size());
    if (!stem.empty() && delimiters.find(stem.back()) == std::string_view::npos) return r;
    if (lower(std::string_view(r.ext).substr(0, stem.size())) == lower(stem)) r.matched = r.ext.substr(stem.size());
    return r;
}

}  // namespace postrider::local
