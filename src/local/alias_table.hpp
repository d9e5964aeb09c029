// local/alias_table.hpp: the alias table (Postfix aliases(5)-like): name -> address list.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: parsing the alias file and looking an address up in it.
// Trust: ADMIN input (trusted intent, untrusted syntax): every entry is validated and
//        errors carry line numbers. A value is only ever an address (resubmitted through
//        the queue), never a path or a command.
// Format (docs/addressing.md "Aliases"):
//     # comment
//     staff:      alice, "Bob Smith" <bob@example.net>, carol (the boss)
//     postmaster@example.org: alice@example.org,
//         dave@example.org           (a line starting with a blank continues the entry)
//   A bare key applies at every local domain; name@domain at that domain only (it wins).
//   A bare address on the right is qualified with the domain of the recipient.
#pragma once

#include "local/mailbox_table.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::local {

inline constexpr std::size_t max_alias_members = 10000;

struct alias_parse_result;

class alias_table {
public:
    // lookup - the members of local_part@domain, qualified, or nullopt. The local part's
    //          extension candidates are tried in order (so owner-list+x finds owner-list),
    //          each first as name@domain, then as a bare name. Case-insensitive keys.
    std::optional<std::vector<std::string>> lookup(std::string_view local_part, std::string_view domain,
                                                   std::string_view delimiters) const;
    // has - an entry for exactly local_part@domain (or the bare local_part), no fallbacks.
    bool has(std::string_view local_part, std::string_view domain) const;
    bool empty() const { return entries_.empty(); }

private:
    friend alias_parse_result parse_alias_table(std::string_view);
    // find - the members stored under "name@domain" or "name" (exact key only).
    const std::vector<std::string>* find(const std::string& local, const std::string& domain) const;
    std::map<std::string, std::vector<std::string>> entries_;  // "name" or "name@domain" -> members
};

struct alias_parse_result {
    alias_table table;                // usable only when errors is empty
    std::vector<table_error> errors;  // line of the entry's first line
};

// parse_alias_table - PURE: alias file text to a table, or errors with line numbers.
alias_parse_result parse_alias_table(std::string_view text);

}  // namespace postrider::local
