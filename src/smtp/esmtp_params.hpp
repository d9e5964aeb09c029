// smtp/esmtp_params.hpp: MAIL FROM / RCPT TO ESMTP parameters.
//
// Owns: parsing and validating mail-parameters and rcpt-parameters into
//       typed values; xtext decoding.
// Trust: input is UNTRUSTED peer text (the rest of one command line, < 512
//        octets). Every keyword is allow-listed per command; values are
//        checked against their RFC grammar; decoded xtext must be printable
//        ASCII, so no control octet can reach the queue or a log line.
// Standards: RFC 5321 4.1.2 (esmtp-param), 1870 (SIZE), 6152 (BODY=8BITMIME),
//            3030 3 (BODY=BINARYMIME, refused: not advertised), 6531 3.4
//            (SMTPUTF8), 3461 4.1-4.4 (RET, ENVID, NOTIFY, ORCPT, xtext);
//            Postfix's XVERP[=xy] (its value may hold '=', so it is checked
//            against core/verp.hpp's allow-list instead of esmtp-value).
// See also: docs/smtp.md ("555 5.5.4" and "552 5.3.4" rows).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postrider::smtp {

// RFC 3461 NOTIFY bits; the same values as queue::notify_flags (the pure tier
// cannot include queue/submission.hpp, which pulls in Asio).
enum notify_bits : std::uint8_t { notify_never = 1, notify_success = 2, notify_failure = 4, notify_delay = 8 };

enum class body_type { unspecified, seven_bit, eight_bit_mime };

struct mail_params {
    std::optional<std::uint64_t> size;  // SIZE= (RFC 1870), checked against the limit by the engine
    body_type body = body_type::unspecified;
    bool smtputf8 = false;
    bool ret_full = false;  // RET=FULL (default HDRS)
    std::string envid;      // ENVID, xtext-decoded, printable ASCII
    // XVERP (Postfix): per-recipient envelope senders; the value is the two
    // delimiters ("" for bare XVERP: the server's verp_delimiters).
    std::optional<std::string> xverp;
};

struct rcpt_params {
    std::uint8_t notify = 0;  // notify_bits; 0 = not given
    std::string orcpt;        // "addr-type;address" with the address xtext-decoded
};

struct mail_params_result {
    std::optional<mail_params> params;  // set on success
    std::string error;                  // reply text for 555 5.5.4 otherwise
};

struct rcpt_params_result {
    std::optional<rcpt_params> params;
    std::string error;
};

// parse_mail_params - RFC 5321 Mail-parameters; unknown, duplicate or malformed -> error.
mail_params_result parse_mail_params(std::string_view text);

// parse_rcpt_params - RFC 5321 Rcpt-parameters; unknown, duplicate or malformed -> error.
rcpt_params_result parse_rcpt_params(std::string_view text);

// xtext_decode - RFC 3461 4: "+XX" hex escapes; nullopt if malformed or not printable ASCII.
std::optional<std::string> xtext_decode(std::string_view s);

}  // namespace postrider::smtp
