// commands/postdrop_client.hpp: hand a maildrop record to the set-group-id
//                               postrider-postdrop helper (docs/security.md rule 1).
//
// Owns: finding the helper (postdrop_helper, else next to our own binary) and
//       running it with a clean environment, the record on its stdin and its
//       stdout (the maildrop file name) captured.
// Trust: we run as the invoking user; the helper is the privileged side and
//       trusts nothing we pass. Used only when the maildrop is not writable
//       for us directly (an ordinary user).
#pragma once

#include <string>
#include <string_view>

#include "config/settings.hpp"

namespace postrider::commands {

// postdrop_path - postdrop_helper, or postrider-postdrop in the directory of /proc/self/exe.
std::string postdrop_path(const config::settings& s);

struct postdrop_result {
    int status = 0;     // sysexits.h: the helper's exit status, or ours when it could not run
    std::string name;   // maildrop file name on success
    std::string error;  // our own failure text (the helper prints its own on stderr)
};

// run_postdrop - run the helper on one encoded record; blocks until it exits.
postdrop_result run_postdrop(const config::settings& s, std::string_view record);

}  // namespace postrider::commands
