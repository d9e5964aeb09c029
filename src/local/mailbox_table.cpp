// local/mailbox_table.cpp: PURE parser and lookup for the mailbox table (no I/O).
#include "local/mailbox_table.hpp"

#include "local/alias_table.hpp"

#include <utility>

namespace postrider::local {
namespace {

constexpr std::size_t max_line_octets = 4096;
constexpr std::size_t max_path_octets = 1024;
constexpr std::size_t max_local_part = 64;   // RFC 5321 4.5.3.1.1
constexpr std::size_t max_domain = 255;      // RFC 5321 4.5.3.1.2

// is_space - blank for the table format.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// trim - strip leading and trailing blanks.
std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// safe_domain - LDH labels separated by dots, lower-case, 1..255 octets.
bool safe_domain(std::string_view d)
{
    if (d.empty() || d.size() > max_domain || d.front() == '.' || d.back() == '.') return false;
    char prev = 0;
    for (char c : d) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!ok || (c == '.' && prev == '.')) return false;
        prev = c;
    }
    return true;
}

// path_char - allowed in one path component.
bool path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '+' || c == '-';
}

// split_fields - key and value separated by blanks; false when not exactly two fields.
bool split_fields(std::string_view line, std::string_view& key, std::string_view& value)
{
    std::size_t i = 0;
    while (i < line.size() && !is_space(line[i])) ++i;
    key = line.substr(0, i);
    value = trim(line.substr(i));
    if (key.empty() || value.empty()) return false;
    for (char c : value)
        if (is_space(c)) return false;
    return true;
}

}  // namespace

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::vector<std::string> extension_candidates(std::string_view local_part, std::string_view delimiters)
{
    std::vector<std::string> out{std::string(local_part)};
    // Bounded: a local part longer than RFC 5321 allows gets no fallbacks (it exists nowhere).
    if (delimiters.empty() || local_part.size() > max_local_part) return out;
    const std::size_t first = local_part.find_first_of(delimiters);
    if (first == std::string_view::npos || first == 0) return out;
    for (std::size_t pos = local_part.find_last_of(delimiters);; pos = local_part.find_last_of(delimiters, pos - 1)) {
        std::string dflt = std::string(local_part.substr(0, pos + 1)) + "default";
        if (dflt != out.front()) out.push_back(std::move(dflt));
        if (pos == first) break;
    }
    out.emplace_back(local_part.substr(0, first));
    return out;
}

bool safe_name(std::string_view s) noexcept
{
    if (s.empty() || s.size() > max_local_part || s.front() == '.') return false;
    if (s.find("..") != std::string_view::npos) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '+' || c == '-';
        if (!ok) return false;
    }
    return true;
}

bool safe_relative_path(std::string_view s) noexcept
{
    if (s.empty() || s.size() > max_path_octets || s.front() == '/') return false;
    while (!s.empty()) {
        std::size_t slash = s.find('/');
        std::string_view part = s.substr(0, slash);
        if (part.empty() || part == "." || part == "..") return false;
        for (char c : part)
            if (!path_char(c)) return false;
        if (slash == std::string_view::npos) break;
        s.remove_prefix(slash + 1);
        if (s.empty()) return true;  // one trailing slash is fine
    }
    return true;
}

mailbox_table mailbox_table::defaults(const std::vector<std::string>& local_domains)
{
    mailbox_table t;
    t.default_mapping_ = true;
    for (const auto& d : local_domains) t.domains_.insert(lower(d));
    return t;
}

table_parse_result parse_mailbox_table(std::string_view text,
                                       const std::vector<std::string>& local_domains)
{
    table_parse_result r;
    mailbox_table* t = &r.table;
    for (const auto& d : local_domains) t->domains_.insert(lower(d));
    std::size_t lineno = 0;
    while (!text.empty()) {
        ++lineno;
        std::size_t nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        auto bad = [&](std::string msg) { r.errors.push_back({lineno, std::move(msg)}); };
        if (raw.size() > max_line_octets) { bad("line too long"); continue; }
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        std::string_view key, value;
        if (!split_fields(line, key, value)) { bad("expected two fields: address and maildir path"); continue; }
        std::size_t at = key.rfind('@');
        if (at == std::string_view::npos) { bad("address has no '@'"); continue; }
        std::string local = lower(key.substr(0, at));
        std::string domain = lower(key.substr(at + 1));
        if (!safe_domain(domain)) { bad("bad domain"); continue; }
        if (!local.empty() && !safe_name(local)) { bad("bad local part (allowed: a-z 0-9 . _ + -)"); continue; }
        if (!safe_relative_path(value)) { bad("bad maildir path (relative, a-z A-Z 0-9 . _ + - /, no '..')"); continue; }
        auto& map = local.empty() ? t->catch_all_ : t->exact_;
        std::string k = local.empty() ? domain : local + "@" + domain;
        if (!map.emplace(k, std::string(value)).second) { bad("duplicate entry for " + k); continue; }
        t->domains_.insert(domain);
    }
    return r;
}

std::optional<std::string> mailbox_table::lookup(std::string_view local_part,
                                                 std::string_view domain) const
{
    std::string d = lower(domain);
    if (!domains_.count(d)) return std::nullopt;
    std::string l = lower(local_part);
    if (default_mapping_) {
        // The whole local part must be safe, extension included, though only the user
        // part names the directory: no address with '/', "..", NUL or controls exists.
        if (!safe_name(l) || !safe_domain(d)) return std::nullopt;
        std::string user = extension_candidates(l, delimiters_).back();
        if (!safe_name(user)) return std::nullopt;
        return d + "/" + user + "/Maildir";
    }
    for (const auto& c : extension_candidates(l, delimiters_))
        if (auto it = exact_.find(c + "@" + d); it != exact_.end()) return it->second;
    if (auto it = catch_all_.find(d); it != catch_all_.end()) return it->second;
    return std::nullopt;
}

std::optional<std::string> mailbox_table::lookup_exact(std::string_view local_part, std::string_view domain) const
{
    if (default_mapping_) return lookup(local_part, domain);
    std::string d = lower(domain);
    if (!domains_.count(d)) return std::nullopt;
    if (auto it = exact_.find(lower(local_part) + "@" + d); it != exact_.end()) return it->second;
    return std::nullopt;
}

bool mailbox_table::accepts(std::string_view local_part, std::string_view domain) const
{
    if (lookup(local_part, domain)) return true;
    return aliases_ && is_local_domain(domain) && aliases_->lookup(local_part, domain, delimiters_).has_value();
}

void mailbox_table::set_recipient_delimiter(std::string_view delimiters)
{
    delimiters_ = lower(delimiters);
}

bool mailbox_table::is_local_domain(std::string_view domain) const
{
    return domains_.count(lower(domain)) != 0;
}

}  // namespace postrider::local
