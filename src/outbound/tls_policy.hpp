// outbound/tls_policy.hpp: PURE per-destination TLS policy (Postfix smtp_tls_policy_maps levels).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the security levels, their names, the tls_policy_table format and its lookup.
// Format: one policy per line, "domain  level" (domain_table.hpp: the same keys and
//         matching as the transport table: exact domain, then the nearest ".parent").
//         level is one of:
//           none     never STARTTLS, even when offered
//           may      opportunistic: STARTTLS when offered, no verification; a failed
//                    handshake is retried in plaintext (the default)
//           encrypt  TLS mandatory, certificate not verified
//           verify   TLS mandatory, chain to remote_tls_ca_file, certificate names
//                    the MX host connected to (Postfix "verify": trusts the MX lookup)
//           secure   TLS mandatory, chain to remote_tls_ca_file, certificate names the
//                    next hop: the recipient domain for MX delivery, the route's host
//                    for transport-table routes (Postfix "secure" with match=nexthop;
//                    a forged MX answer cannot redirect mail to a host that only has
//                    a certificate for itself)
//         A mandatory level never falls back to plaintext; a failure defers (4.7.x).
// Trust: admin-supplied file text; every bad line is reported with its number.
// Standards: RFC 3207, RFC 7435 (opportunistic security), RFC 6125 (name checks).
// See also: pool.cpp (where the level is applied), docs/remote-delivery.md ("TLS policy").
#pragma once

#include "outbound/domain_table.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::outbound {

enum class tls_level { none, may, encrypt, verify, secure };

inline constexpr std::size_t tls_policy_max_entries = 100000;

// parse_tls_level - "none", "may", "encrypt", "verify", "secure" (lower case, as Postfix).
std::optional<tls_level> parse_tls_level(std::string_view text);
// level_name - the configuration word for a level.
std::string_view level_name(tls_level l);
// mandatory - TLS or nothing (encrypt, verify, secure).
inline bool mandatory(tls_level l) { return l >= tls_level::encrypt; }
// verifies - the certificate chain and name are checked (verify, secure).
inline bool verifies(tls_level l) { return l >= tls_level::verify; }

struct tls_policy_parse;

class tls_policy_table {
public:
    // lookup - the level for a recipient domain, or nullopt (use remote_tls_policy).
    std::optional<tls_level> lookup(std::string_view domain) const;
    std::size_t size() const noexcept { return levels_.size(); }
    bool empty() const noexcept { return levels_.empty(); }
    // any_verifies - some entry is verify or secure (check-config: then a CA file is needed).
    bool any_verifies() const;

private:
    friend tls_policy_parse parse_tls_policy_table(std::string_view text);
    std::map<std::string, tls_level, std::less<>> levels_;  // key: lower-case domain, or ".parent"
};

struct tls_policy_parse {
    tls_policy_table table;
    std::vector<table_error> errors;
};

// parse_tls_policy_table - every line parsed; errors carry line numbers.
tls_policy_parse parse_tls_policy_table(std::string_view text);

}  // namespace postrider::outbound
