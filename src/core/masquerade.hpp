// core/masquerade.hpp: PURE address masquerading (Postfix masquerade_domains):
//                      user@host.sub.example.com becomes user@example.com.
//
// PURE: no I/O.
// Owns: the masquerade_domains matching rules, the masquerade_exceptions check, and
//       the rewrite of the address domains in a message's header section.
// Trust: the header section is the submitter's (UNTRUSTED) text. It is never
//        re-generated: only the octets of an addr-spec's domain are replaced, the
//        rest (display names, comments, encoded words, folding) is copied as is.
//        A field that does not parse as an RFC 5322 address list is left
//        untouched, so a rewrite can never corrupt a header.
// See also: docs/addressing.md ("Masquerading"), pickup/validate.hpp (where it is applied).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::core {

// Which addresses are rewritten (Postfix masquerade_classes).
enum masquerade_class : unsigned {
    masq_envelope_sender = 1,
    masq_header_sender = 2,     // From, Sender, Reply-To and their Resent- forms, Errors-To
    masq_header_recipient = 4,  // To, Cc, Bcc and their Resent- forms
};

struct masquerade_rules {
    // masquerade_domains, in order, lower case; "!domain" excludes that domain and its subdomains.
    std::vector<std::string> domains;
    std::vector<std::string> exceptions;  // masquerade_exceptions: local parts, lower case
    unsigned classes = masq_envelope_sender | masq_header_sender;

    bool empty() const { return domains.empty(); }
};

// masquerade_domain - the domain `domain` becomes: the first listed domain it is a proper
//                     subdomain of; nullopt when unchanged (no match, an exclusion matched
//                     first, or it equals a listed domain). ASCII case-insensitive.
std::optional<std::string> masquerade_domain(std::string_view domain, const masquerade_rules& r);

// is_masquerade_exception - the local part (quoted form unquoted) is listed in exceptions.
bool is_masquerade_exception(std::string_view local, const masquerade_rules& r);

// masquerade_address - an envelope address local@domain masqueraded; nullopt when unchanged
//                      (null sender, exception, no domain, domain literal, no match).
std::optional<std::string> masquerade_address(std::string_view address, const masquerade_rules& r);

// masquerade_field_value - one address-list field body (after the colon, folding kept)
//                          with each addr-spec domain masqueraded; nullopt when nothing
//                          changed, the value is not a parsable address list or it is
//                          longer than limits::header_field_octets.
std::optional<std::string> masquerade_field_value(std::string_view value, const masquerade_rules& r);

struct header_rewrite {
    std::size_t replaced = 0;  // octets of the message's start that `header` replaces
    std::string header;        // the rewritten header fields (up to, not including, the empty line)
};

// masquerade_header - the header fields of `message` (CRLF lines, read up to the first
//                     empty line or the first line that is not a field) with the address
//                     fields of r.classes masqueraded. nullopt when nothing changed, so the
//                     caller keeps the message as it is; otherwise only `replaced` octets
//                     are superseded, and the body is never copied.
std::optional<header_rewrite> masquerade_header(std::string_view message, const masquerade_rules& r);

}  // namespace postrider::core
