// dns/mx.hpp: PURE MX answer -> ordered list of hosts to try (RFC 5321 5.1, RFC 7505).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks). Randomness is injected.
// Owns: preference sort, random order among equal preferences, the implicit-MX
//       fallback and null-MX detection.
// Trust: MX records come from DNS answers (UNTRUSTED, decoded by c-ares): host
//        names are checked to be LDH names of at most 255 octets; anything else
//        is dropped rather than connected to.
// Standards: RFC 5321 5.1 (MX ordering, implicit MX), RFC 7505 (null MX).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::dns {

struct mx_record {
    std::uint16_t preference = 0;
    std::string host;  // as decoded by c-ares; "" (or ".") is the RFC 7505 null MX target
};

enum class mx_kind {
    hosts,     // try hosts in order
    null_mx,   // RFC 7505: the domain accepts no mail (permanent)
    no_hosts,  // every record was unusable (temporary: treat like a lookup failure)
};

struct mx_plan {
    mx_kind kind = mx_kind::hosts;
    std::vector<std::string> hosts;  // lower-cased, no trailing dot, in the order to try
};

// random_below - returns a uniformly chosen value in [0, n); injected so tests are deterministic.
using random_below = std::function<std::uint32_t(std::uint32_t n)>;

// plan_mx - sort by preference, shuffle equal preferences, detect null MX, drop bad names.
mx_plan plan_mx(std::vector<mx_record> records, const random_below& rnd);
// implicit_mx - RFC 5321 5.1: no MX records, the domain itself is the one host.
mx_plan implicit_mx(std::string_view domain);
// valid_host_name - LDH labels (underscore allowed, seen in the wild), 1..255 octets.
bool valid_host_name(std::string_view name);
// normalise_host - lower-case and strip one trailing dot.
std::string normalise_host(std::string_view name);

}  // namespace postrider::dns
