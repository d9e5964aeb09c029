// core/base64.hpp: RFC 4648 section 4 base64, encoding and strict decoding.
//
// Owns: the one base64 of the project (SMTP AUTH both ways).
// Trust: base64_decode takes UNTRUSTED text (SASL responses) and accepts only
//        the canonical form: alphabet A-Z a-z 0-9 + /, length a multiple of 4,
//        '=' only as final padding, zero pad bits (RFC 4648 3.5). No blanks.
// PURE: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postrider::core {

// base64_encode - with padding, no line breaks.
std::string base64_encode(std::string_view raw);

// base64_decode - the decoded octets, or nullopt for anything not canonical base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace postrider::core
