// local/alias_table.cpp: PURE parser and lookup for the alias table (no I/O).
#include "local/alias_table.hpp"

#include "local/address_list.hpp"
#include "local/delivery_target.hpp"

#include <utility>

namespace postrider::local {
namespace {

constexpr std::size_t max_entry_octets = 1024 * 1024;

// key_ok - name or name@domain: no blanks, quotes, controls or brackets, at most 320 octets.
bool key_ok(std::string_view k)
{
    if (k.empty() || k.size() > 320 || k.front() == '@' || k.back() == '@') return false;
    for (char c : k) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '"' || c == '<' || c == '>' || c == ',' || c == '(' || c == ')' ||
            c == '\\')
            return false;
    }
    return k.find('@') == k.rfind('@');
}

}  // namespace

alias_parse_result parse_alias_table(std::string_view text)
{
    alias_parse_result r;
    // Entries are collected first (a continuation line belongs to the entry above it).
    struct pending { std::size_t line; std::string text; };
    std::vector<pending> entries;
    std::size_t lineno = 0;
    while (!text.empty()) {
        ++lineno;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::size_t k = 0;
        while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
        if (k == line.size() || line[k] == '#') continue;  // blank or comment (also between continuations)
        if (k > 0) {
            if (entries.empty()) { r.errors.push_back({lineno, "continuation line without an entry"}); continue; }
            auto& e = entries.back().text;
            if (e.size() + line.size() > max_entry_octets) { r.errors.push_back({lineno, "entry too long"}); continue; }
            e += ' ';
            e += line;
            continue;
        }
        entries.push_back({lineno, std::string(line)});
    }
    for (auto& [line, entry] : entries) {
        auto bad = [&, line = line](std::string msg) { r.errors.push_back({line, std::move(msg)}); };
        const auto colon = entry.find(':');
        if (colon == std::string::npos) { bad("expected name: address, ..."); continue; }
        std::string key = lower(std::string_view(entry).substr(0, colon));
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
        if (!key_ok(key)) { bad("bad alias name"); continue; }
        std::string_view value = std::string_view(entry).substr(colon + 1);
        auto v = value.find_first_not_of(" \t");
        if (v != std::string_view::npos && (value[v] == '|' || value[v] == '/' || value.substr(v).starts_with(":include:"))) {
            bad("only addresses are allowed (programs and files belong in forward files)");
            continue;
        }
        auto list = parse_address_list(value);
        if (!list.error.empty()) { bad(list.error); continue; }
        if (list.addresses.empty()) { bad("no address"); continue; }
        if (list.addresses.size() > max_alias_members) { bad("more than 10000 members"); continue; }
        bool ok = true;
        for (const auto& a : list.addresses)
            if (a.find('@') == std::string::npos ? !key_ok(a) : !plain_address(a)) {
                bad("bad address: " + a);
                ok = false;
                break;
            }
        if (!ok) continue;
        if (!r.table.entries_.emplace(key, std::move(list.addresses)).second) bad("duplicate alias " + key);
    }
    return r;
}

const std::vector<std::string>* alias_table::find(const std::string& local, const std::string& domain) const
{
    if (auto it = entries_.find(local + "@" + domain); it != entries_.end()) return &it->second;
    if (auto it = entries_.find(local); it != entries_.end()) return &it->second;
    return nullptr;
}

bool alias_table::has(std::string_view local_part, std::string_view domain) const
{
    return find(lower(local_part), lower(domain)) != nullptr;
}

std::optional<std::vector<std::string>> alias_table::lookup(std::string_view local_part, std::string_view domain,
                                                            std::string_view delimiters) const
{
    if (entries_.empty()) return std::nullopt;
    const std::string d = lower(domain);
    for (const auto& c : extension_candidates(lower(local_part), delimiters)) {
        const auto* members = find(c, d);
        if (!members) continue;
        std::vector<std::string> out;
        out.reserve(members->size());
        for (const auto& m : *members) out.push_back(m.find('@') == std::string::npos ? m + "@" + d : m);
        return out;
    }
    return std::nullopt;
}

}  // namespace postrider::local
