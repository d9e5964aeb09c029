// local/program_address.hpp: EXT and DEFAULT of a program delivery (qmail-command(8)).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: how the address extension and the part matched by a "-default" forward file are
//       cut from the recipient's local part.
// Trust: the local part passed the SMTP parser; the file name came from forward_file_names().
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postrider::local {

struct address_extension {
    std::string ext;                      // after the first delimiter ("" when none): joe-list-x -> list-x
    std::optional<std::string> matched;   // the part a "*default" file stood for: .qmail-list-default -> x
};

// extension_of - EXT and DEFAULT for local_part delivered through forward_file (".qmail",
//                ".qmail-EXT", ".qmail-A-default", ".qmail-default"). The case of the
//                address is kept; the file name (lower case) is compared case-insensitively.
address_extension extension_of(std::string_view local_part, std::string_view delimiters,
                               std::string_view forward_file);

}  // namespace postrider::local
