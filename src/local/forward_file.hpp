// local/forward_file.hpp: the user-managed forward and list files (.qmail, .qmail-EXT).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the line syntax of a forward file and the file names tried for an address.
// Trust: the file is USER input (untrusted): every line is validated; a maildir line
//        never names a path outside the user's directory (no "..", not absolute);
//        a program line is refused unless the admin enabled allow_program_delivery.
// Format (qmail's dot-qmail(5), maildir and forward lines only):
//     # comment                 (blank lines too)
//     &alice@example.org        forward (a bare "alice@example.org" too)
//     ./Maildir/                deliver to this maildir under the user's directory
//     |command args             program (only with allow_program_delivery)
// See also: docs/addressing.md ("Forward and list files"), local/expansion.hpp.
#pragma once

#include "local/delivery_target.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::local {

inline constexpr std::size_t max_forward_file_octets = 64 * 1024;
inline constexpr std::size_t max_forward_targets = 1000;

struct forward_parse_result {
    std::vector<delivery_target> targets;  // maildir values relative to the USER's directory
    std::size_t error_line = 0;            // 1-based; 0 = no error
    std::string error;                     // why the file is unusable (first error only)
};

// parse_forward_file - PURE: the targets of one forward file. A bare local part is qualified
//                      with domain. Any error makes the whole file unusable (the caller
//                      defers: a half-read list must not lose mail silently). A file
//                      without any delivery line gives no targets and no error: the
//                      caller then delivers to the user's own maildir (qmail: empty .qmail).
forward_parse_result parse_forward_file(std::string_view text, std::string_view domain, bool allow_program);

// forward_file_names - PURE: the files tried for local_part, best first (first one that
//                      exists wins): ".qmail-EXT", ".qmail-A-default", ".qmail-default",
//                      ".qmail", the order of extension_candidates(). Extensions that are
//                      not safe file names (after lower-casing) are left out.
std::vector<std::string> forward_file_names(std::string_view local_part, std::string_view delimiters);

}  // namespace postrider::local
