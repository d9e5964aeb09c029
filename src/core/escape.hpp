// core/escape.hpp: make untrusted bytes safe for a log line or a reply.
//
// Owns: byte-to-printable escaping with a length cap.
// Trust: input is UNTRUSTED (peer HELO names, addresses, remote reply text).
//        Output is printable ASCII with no CR, LF, quote or backslash left raw,
//        so one event stays one log line (log injection defence).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/limits.hpp"

namespace postrider::core {

// escape - printable ASCII passes; \\ \" \r \n \t and \xNN for the rest; cut at max octets with "...".
std::string escape(std::string_view raw, std::size_t max = limits::log_field_octets);

}  // namespace postrider::core
