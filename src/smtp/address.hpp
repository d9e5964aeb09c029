// smtp/address.hpp: RFC 5321 paths, mailboxes and domains as validated values.
//
// Owns: the only parser of envelope addresses and HELO names. A mailbox can
//       only be built here ("parse, don't validate"); downstream code takes
//       the value type and never sees the wire text.
// Trust: input is UNTRUSTED peer text. Validation is positive (allow-lists
//        of octets, explicit length limits from core/limits.hpp). The output
//        contains no control octets, no SP outside a quoted local part, and
//        non-ASCII octets only as well-formed UTF-8 when SMTPUTF8 was given.
// Standards: RFC 5321 4.1.2 (syntax), 4.1.3 (address literals), 4.1.1.3 and
//            appendix C (source routes), 4.5.1 (postmaster), 4.5.3.1
//            (lengths); RFC 6531 3.3 (UTF-8 addresses); RFC 3629 (UTF-8).
// See also: docs/smtp.md (reply codes for each failure).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace postrider::smtp {

class path_parser;

// A syntactically valid mailbox: canonical local part, lower-cased domain.
class mailbox {
public:
    // local - unquoted if the unquoted form is a valid dot-string, else the minimal quoted form.
    const std::string& local() const noexcept { return local_; }
    // domain - lower-case domain, "[1.2.3.4]" or "[IPv6:...]".
    const std::string& domain() const noexcept { return domain_; }
    // str - local@domain.
    std::string str() const { return local_ + '@' + domain_; }

private:
    friend class path_parser;
    mailbox(std::string local, std::string domain) : local_(std::move(local)), domain_(std::move(domain)) {}
    std::string local_;
    std::string domain_;
};

enum class address_error {
    none,
    syntax,          // 501 5.1.7 (sender) / 501 5.1.3 (recipient)
    too_long,        // same codes, "too long" text (RFC 5321 4.5.3.1)
    needs_smtputf8,  // 553 5.6.7 (RFC 6531 3.7.4.2 / Postfix)
};

struct parsed_path {
    address_error error = address_error::none;
    std::optional<mailbox> box;  // empty for the null reverse-path <>
    bool ok() const noexcept { return error == address_error::none; }
};

// path_extent - octets of the "<...>" at the start of s (quote-aware), 0 if there is none.
std::size_t path_extent(std::string_view s) noexcept;

// parse_reverse_path - MAIL FROM path; "<>" is the null sender.
parsed_path parse_reverse_path(std::string_view path, bool smtputf8);

// parse_forward_path - RCPT TO path; "<postmaster>" (any case) maps to postmaster@our_domain.
parsed_path parse_forward_path(std::string_view path, bool smtputf8, std::string_view our_domain);

// parse_domain - a domain name, lower-cased; nullopt if invalid. UTF-8 labels only if utf8.
std::optional<std::string> parse_domain(std::string_view s, bool utf8, bool allow_underscore = false);

// parse_address_literal - "[IPv4]" or "[IPv6:...]", canonical form; nullopt if invalid.
std::optional<std::string> parse_address_literal(std::string_view s);

// parse_helo_name - HELO/EHLO argument: domain (underscore tolerated) or address literal.
std::optional<std::string> parse_helo_name(std::string_view s);

// is_valid_utf8 - well-formed UTF-8: no overlongs, surrogates or code points past U+10FFFF.
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace postrider::smtp
