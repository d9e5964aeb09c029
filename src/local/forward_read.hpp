// local/forward_read.hpp: the I/O step of an expansion (runs on the delivery disk worker).
//
// Owns: reading the first forward file of a plan that exists, statting list-owner
//       directories, and refusing symlinks below a user's directory.
// Trust: the user's directory D comes from the mailbox table (admin); the files in it are
//        user-writable. Files are opened relative to D with O_NOFOLLOW (a symlinked
//        forward file is refused, never followed), at most max_forward_file_octets read.
// See also: local/expansion.hpp (the pure steps around this one), docs/addressing.md.
#pragma once

#include "local/expansion.hpp"

#include <filesystem>
#include <string>

namespace postrider::local {

// read_forward_facts - step 2 of an expansion: blocking file I/O under mail_root.
expansion_facts read_forward_facts(const std::filesystem::path& mail_root, const expansion_plan& p);

// symlink_below - "" when no existing component of target (mail-root relative) below
//                 user_dir is a symlink, else why not. A missing component ends the walk
//                 (the maildir delivery creates it as a directory).
std::string symlink_below(const std::filesystem::path& mail_root, const std::string& user_dir, const std::string& target);

}  // namespace postrider::local
