// sendmail/headers.hpp: header scanning and completion for locally submitted
//                       mail (qmail-inject's job): -t recipients, Bcc removal,
//                       Date:, Message-ID:, From: when missing.
//
// PURE: no I/O, no clock (the time is a parameter).
// Owns: where the header section ends, which fields name recipients, the text
//       of the fields we add.
// Trust: the message is the local user's (see input.hpp); it arrives here as
//        CRLF lines already checked for NUL, bare CR and line length. Address
//        text pulled out of headers is only a candidate: the caller validates
//        it with the smtp/ parsers before it reaches an envelope.
// Standards: RFC 5322 2.2 (fields, folding), 3.4 (address lists, groups,
//            comments), 3.6 (Date, From, Message-ID required or recommended),
//            3.6.3 (Bcc), 3.6.6 (Resent-*).
// See also: docs/sendmail.md ("Header completion").
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::sendmail {

struct header_field {
    std::string name;  // as written (compare with iequals)
    std::string text;  // the whole field: "Name: value" lines with their CRLFs
    // value - the unfolded value (after the colon, CRLFs removed, leading space trimmed).
    std::string value() const;
};

struct split_message {
    std::vector<header_field> fields;
    std::string body;               // everything after the blank line (CRLF lines)
    bool separator_added = false;   // the first line that was not a field started the body
    bool from_line_dropped = false; // a leading mbox "From " line was removed
};

// split_headers - the header section and the body of CRLF message data. The
//                 header section ends at the first empty line, or (fix-up, as
//                 Postfix) at the first line that is neither a field nor a
//                 continuation: a blank line is then inserted before it.
split_message split_headers(std::string_view crlf_data);

// iequals - ASCII case-insensitive comparison (field names).
bool iequals(std::string_view a, std::string_view b) noexcept;

// parse_address_list - the addr-specs in a To/Cc/Bcc value: handles display
//                      names, <angle> addresses, comments, quoted strings and
//                      groups ("list: a@b, c@d;"). Returns them as written
//                      (a bare local part stays bare).
std::vector<std::string> parse_address_list(std::string_view value);

// header_recipients - -t: addresses from Resent-To/-Cc/-Bcc if any Resent- field
//                     exists (RFC 5322 3.6.6), else from To, Cc and Bcc.
std::vector<std::string> header_recipients(const split_message& m);

struct completion {
    std::string login;      // the invoking user's login name
    std::string full_name;  // -F, else the user's passwd name; may be empty
    std::string domain;     // for From: and Message-ID:
    std::string unique;     // unique token for Message-ID (e.g. the maildrop name)
    std::time_t now = 0;    // for Date:
};

// rfc5322_date - "Tue, 07 Jan 2025 09:05:03 +0000" (UTC).
std::string rfc5322_date(std::time_t when);

// quote_display_name - a display name as an RFC 5322 phrase: atoms as they are,
//                      anything else as a quoted-string; CR/LF never survive.
std::string quote_display_name(std::string_view name);

// complete - the final message: Bcc/Resent-Bcc removed, Date:, Message-ID: and
//            From: added when missing (in that order, before the user's fields).
std::string complete(const split_message& m, const completion& c);

}  // namespace postrider::sendmail
