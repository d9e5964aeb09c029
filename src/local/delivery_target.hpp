// local/delivery_target.hpp: what one local recipient expands into (aliases, forward files).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the target type shared by the alias table, the forward-file parser and the
//       expansion engine, and the address check they share.
// Trust: values come from admin files (aliases) or user files (forward files); a maildir
//        value has passed safe_relative_path(), an address has passed plain_address().
// See also: docs/addressing.md ("Aliases", "Forward and list files").
#pragma once

#include <string>
#include <string_view>

namespace postrider::local {

struct delivery_target {
    enum class kind { maildir, address, program };
    kind type = kind::address;
    // maildir: path relative to the mail root; address: local@domain (no angle brackets);
    // program: the command text after '|' (run by local/program_*, when enabled).
    std::string value;
    bool operator==(const delivery_target&) const = default;
};

// plain_address - PURE: local@domain as a forward target: 3..320 octets, one non-empty
//                 local part and domain around the last '@', no blanks, controls, NUL,
//                 '<', '>', ',' or ';' (the text later becomes an envelope recipient).
bool plain_address(std::string_view a) noexcept;

}  // namespace postrider::local
