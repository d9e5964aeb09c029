// local/address_list.hpp: RFC 5322 address lists (the right-hand side of an alias).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: turning `addr, "Quoted Name" <addr>, addr (comment)` into bare addr-specs.
// Trust: admin text with untrusted syntax: every element is checked (plain_address);
//        nesting of comments is bounded by the input length, nothing recurses.
// Limits: groups ("team: a, b;") are refused (an alias is already a group); obsolete
//         routes (<@a:b@c>) are refused; quoted local parts keep their quotes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postrider::local {

struct address_list_result {
    std::vector<std::string> addresses;  // addr-specs in order; a bare name stays bare ("bob")
    std::string error;                   // empty when the list parsed
};

// parse_address_list - PURE: the addr-specs of an RFC 5322 address-list. Comments are
//                      dropped, display names ignored, empty elements (",,") skipped.
address_list_result parse_address_list(std::string_view text);

}  // namespace postrider::local
