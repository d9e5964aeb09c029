// core/verp.hpp: PURE Variable Envelope Return Paths (VERP), as Postfix does them.
//
// PURE: no I/O.
// Owns: which delimiter pairs are allowed and the per-recipient sender rewrite
//       owner-list@origin + joe@example.org -> owner-list+joe=example.org@origin.
// Trust: the sender and recipient were validated by the smtp/ parsers before
//        they were queued; delimiters come from the admin (verp_delimiters), a
//        local user (sendmail -XV) or an SMTP client (MAIL FROM ... XVERP=xy)
//        and are checked here against a fixed allow-list.
// See also: docs/sendmail.md ("VERP"); lists (issue 5) build on this.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postrider::core {

// Postfix's verp_delimiter_filter default: the only characters allowed as delimiters.
inline constexpr std::string_view verp_delimiter_chars = "-=+";
inline constexpr std::string_view default_verp_delimiters = "+=";

// valid_verp_delimiters - exactly two characters, each from verp_delimiter_chars.
bool valid_verp_delimiters(std::string_view d) noexcept;

// verp_sender - the personalised envelope sender for one recipient:
//               sender_local D0 rcpt_local D1 rcpt_domain @ sender_domain.
//               nullopt when there is nothing to rewrite or the result would not
//               be a plain address: null sender, invalid delimiters, a quoted
//               local part on either side, or a local part over 64 octets
//               (RFC 5321 4.5.3.1.1). The caller then uses the sender unchanged.
std::optional<std::string> verp_sender(std::string_view sender, std::string_view recipient,
                                       std::string_view delimiters);

}  // namespace postrider::core
