// local/header_scan.hpp: the header facts loop detection needs, from one bounded pass.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: counting Received: fields and finding a Delivered-To: field naming one address.
// Trust: the message is the peer's bytes (untrusted). The scan reads each header
//        line once, stops at the first empty line (the body is never looked at),
//        and never allocates per line: its cost is linear in the header section.
// See also: docs/addressing.md ("Loop detection"), queue/manager.cpp (where it is applied).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postrider::local {

struct header_facts {
    std::size_t received = 0;         // Received: fields in the header section
    bool delivered_to_match = false;  // a Delivered-To: field names the address asked for
    std::size_t delivered_to = 0;     // Delivered-To: fields (one per forward: the expansion depth)
};

// scan_headers - PURE: one pass over message's header section (CRLF or LF line ends).
//                Field names compare case-insensitively; folded fields (continuation
//                lines starting with SP or HT) are unfolded before their value is
//                compared. delivered_to compares case-insensitively, with or without
//                <>, surrounding blanks ignored; empty delivered_to never matches.
header_facts scan_headers(std::string_view message, std::string_view delivered_to);

// loop_reason - PURE: why the message must bounce as a mail loop (5.4.6), or nullopt.
//               max_received 0 disables the hop count check.
std::optional<std::string> loop_reason(const header_facts& f, std::size_t max_received);

}  // namespace postrider::local
