// dns/ares_error.hpp: c-ares statuses (and our own DNS outcomes) as std::error_code, each temporary or permanent.
//
// Owns: the "dns" error_category and the temporary/permanent classification.
// Trust: no input beyond status numbers.
// Standards: RFC 5321 5.1 and 4.2.1 (a lookup failure that may go away is a 4xx),
//            RFC 7505 (null MX is permanent).
// See also: docs/remote-delivery.md ("Resolver").
#pragma once

#include <system_error>

namespace postrider::dns {

// Our own outcomes share the category, numbered past every ARES_* status.
enum class errc {
    null_mx = 1000,     // RFC 7505: domain accepts no mail (permanent)
    no_usable_host,     // MX records present but none usable (temporary: may be fixed)
    no_address,         // MX host(s) have no A/AAAA (temporary, as Postfix treats MX hosts)
};

// category - the "dns" category; message() is ares_strerror() for ARES_* values.
const std::error_category& category() noexcept;
// make_ares_error - wrap an ARES_* status (ARES_SUCCESS gives an empty code).
std::error_code make_ares_error(int status) noexcept;
// make_error_code - for errc.
std::error_code make_error_code(errc e) noexcept;
// is_no_data - the name exists but has no record of the asked type (MX: use the implicit MX).
bool is_no_data(std::error_code ec) noexcept;
// is_permanent - NXDOMAIN, NODATA for the domain itself, bad name, null MX; everything else,
//                unknown codes included, is temporary (never lose mail over a DNS hiccup).
bool is_permanent(std::error_code ec) noexcept;

}  // namespace postrider::dns

template <>
struct std::is_error_code_enum<postrider::dns::errc> : std::true_type {};
