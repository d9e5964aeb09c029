// local/mailbox_table.hpp: which local addresses exist and where their maildirs are.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the mailbox table (parsed from text by a PURE parser) and the
//       default mapping used when no table file is configured.
// Trust: table text is ADMIN input (trusted intent, untrusted syntax: every line
//        is validated and errors carry line numbers). lookup() takes address
//        parts that the smtp/ parser validated, but it still only ever builds a
//        path from a local part that passes safe_name(), so no address text can
//        escape the mail root.
// Format (docs/queue-format.md "Mailbox table"):
//     # comment
//     alice@example.org      example.org/alice/Maildir
//     @example.net           example.net/catchall/Maildir      (catch-all for the domain)
//   Paths are relative to the mail root; components match [A-Za-z0-9._+-],
//   never "." or "..", never absolute. Every domain named is a local domain.
// Default (no table file): every local part at a local domain that is a safe
//   name ([a-z0-9._+-], no leading dot, at most 64 octets; compared lower-cased)
//   maps to "<domain>/<localpart>/Maildir", where localpart is cut at the first
//   recipient delimiter (user+ext goes to user's maildir).
// Extensions (table mode): the candidates of extension_candidates() are looked up
//   in order, then the domain's catch-all (docs/addressing.md).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postrider::local {

struct table_error {
    std::size_t line = 0;  // 1-based
    std::string message;
};

struct table_parse_result;
class alias_table;

class mailbox_table {
public:
    // defaults - the table used with no table file: safe local parts at these domains.
    static mailbox_table defaults(const std::vector<std::string>& local_domains);

    // lookup - relative maildir path for local_part@domain, or nullopt (unknown user,
    //          or not a local domain). Pure, no I/O; case-insensitive.
    std::optional<std::string> lookup(std::string_view local_part, std::string_view domain) const;
    // is_local_domain - whether mail for this domain is delivered here.
    bool is_local_domain(std::string_view domain) const;
    // set_recipient_delimiter - characters that start an address extension (user+ext);
    //                           empty: none. See extension_candidates().
    void set_recipient_delimiter(std::string_view delimiters);
    const std::string& recipient_delimiter() const { return delimiters_; }
    // lookup_exact - like lookup() but without extension fallbacks or the catch-all: the
    //                entry written for exactly this address (default mapping: its path).
    std::optional<std::string> lookup_exact(std::string_view local_part, std::string_view domain) const;
    bool default_mapping() const { return default_mapping_; }

    // The alias table travels with the mailbox table so one swap (SIGHUP) changes both.
    void set_aliases(std::shared_ptr<const alias_table> a) { aliases_ = std::move(a); }
    const alias_table* aliases() const { return aliases_.get(); }
    // accepts - RCPT: a mailbox exists, or an alias at a local domain (no mailbox needed).
    bool accepts(std::string_view local_part, std::string_view domain) const;

private:
    friend table_parse_result parse_mailbox_table(std::string_view, const std::vector<std::string>&);
    bool default_mapping_ = false;
    std::string delimiters_;                          // recipient_delimiter characters
    std::set<std::string> domains_;                   // lower-case
    std::map<std::string, std::string> exact_;        // "user@domain" -> path
    std::map<std::string, std::string> catch_all_;    // "domain" -> path
    std::shared_ptr<const alias_table> aliases_;      // null: no alias_table
};

struct table_parse_result {
    mailbox_table table;              // usable only when errors is empty
    std::vector<table_error> errors;  // every bad line, in order
};

// parse_mailbox_table - PURE: table text to a table, or errors with line numbers.
//                       local_domains are extra local domains whose users must all
//                       be listed explicitly (no default mapping in table mode).
table_parse_result parse_mailbox_table(std::string_view text,
                                       const std::vector<std::string>& local_domains = {});

// extension_candidates - PURE: the local parts lookup() tries for local_part, best first
//   (qmail's -default fallbacks, then Postfix's bare user). With delimiter '-',
//   "user-a-b" gives "user-a-b", "user-a-default", "user-default", "user".
//   The delimiter found at each split is the one kept in "-default" names. A local part
//   without a delimiter, or starting with one, gives only itself. At most 65 entries.
std::vector<std::string> extension_candidates(std::string_view local_part, std::string_view delimiters);

// safe_name - [a-z0-9._+-], 1..64 octets, no leading dot, no ".." (input already lower-cased).
bool safe_name(std::string_view s) noexcept;
// safe_relative_path - components of [A-Za-z0-9._+-], none "." or "..", not absolute, no "//".
bool safe_relative_path(std::string_view s) noexcept;
// lower - ASCII lower-case copy.
std::string lower(std::string_view s);

}  // namespace postrider::local
