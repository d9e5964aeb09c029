// local/header_scan.cpp: PURE header scan for loop detection (see header_scan.hpp).
#include "local/header_scan.hpp"

#include <fmt/format.h>

namespace postrider::local {
namespace {

// lower_char - ASCII lower case.
char lower_char(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// blank - SP or HT (RFC 5322 WSP), or a stray CR.
bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// name_is - the field starts with name followed by ':' (case-insensitive).
bool name_is(std::string_view field, std::string_view name)
{
    if (field.size() <= name.size() || field[name.size()] != ':') return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (lower_char(field[i]) != name[i]) return false;
    return true;
}

// value_names - the unfolded field value (after "name:") is exactly address, ignoring
//               blanks, line breaks of folding and one pair of angle brackets.
//               Compared byte by byte without building the unfolded string.
bool value_names(std::string_view value, std::string_view address)
{
    std::string_view a = address;
    while (!a.empty() && blank(a.front())) a.remove_prefix(1);
    while (!a.empty() && blank(a.back())) a.remove_suffix(1);
    if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
    if (a.empty()) return false;
    // Strip folding whitespace at both ends; any inside means "not this address".
    auto skip = [](char c) { return blank(c) || c == '\n'; };
    while (!value.empty() && skip(value.front())) value.remove_prefix(1);
    while (!value.empty() && skip(value.back())) value.remove_suffix(1);
    if (value.size() >= 2 && value.front() == '<' && value.back() == '>') value = value.substr(1, value.size() - 2);
    if (value.size() != a.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower_char(value[i]) != lower_char(a[i])) return false;
    return true;
}

}  // namespace

header_facts scan_headers(std::string_view message, std::string_view delivered_to)
{
    header_facts f;
    std::size_t pos = 0;
    while (pos < message.size()) {
        // One field: its first line and every continuation line.
        std::size_t start = pos;
        std::size_t end = message.find('\n', pos);
        std::size_t first_len = (end == std::string_view::npos ? message.size() : end) - start;
        std::string_view first = message.substr(start, first_len);
        if (first.empty() || first == "\r") break;  // the empty line: the body follows
        pos = end == std::string_view::npos ? message.size() : end + 1;
        while (pos < message.size() && (message[pos] == ' ' || message[pos] == '\t')) {
            end = message.find('\n', pos);
            pos = end == std::string_view::npos ? message.size() : end + 1;
        }
        std::string_view field = message.substr(start, pos - start);
        if (name_is(field, "received")) {
            ++f.received;
        } else if (name_is(field, "delivered-to")) {
            ++f.delivered_to;
            if (!f.delivered_to_match) f.delivered_to_match = value_names(field.substr(sizeof "delivered-to"), delivered_to);
        }
    }
    return f;
}

std::optional<std::string> loop_reason(const header_facts& f, std::size_t max_received)
{
    if (f.delivered_to_match) return std::string("mail loop: already delivered to this recipient (Delivered-To)");
    if (max_received > 0 && f.received > max_received)
        return fmt::format("mail loop: too many hops ({} Received headers, limit {})", f.received, max_received);
    return std::nullopt;
}

}  // namespace postrider::local
