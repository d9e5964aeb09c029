// local/expansion.hpp: what one local recipient becomes: its maildir, other maildirs,
//                      addresses to forward to, programs (aliases and forward files).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the decision, in two pure steps around one I/O step done by the caller on the
//       disk worker (queue/manager.cpp):
//         1. plan_expansion: alias? mailbox? which forward files to try, which list-owner
//            addresses to check;
//         2. (I/O) read the first forward file that exists; stat owner directories;
//         3. finish_expansion: parse the file and build the targets and the envelope sender.
// Trust: tables are admin input (already parsed); forward files are user input, parsed by
//        parse_forward_file (paths stay under the user's directory).
// Rules (docs/addressing.md):
//   * An alias wins over a mailbox. A member naming the alias itself means its own mailbox.
//   * Otherwise a mailbox whose path is D/Maildir may have forward files in D (a mailbox
//     path not ending in /Maildir has none). No file: the maildir, as before.
//   * A forward line naming the recipient itself means its own maildir.
//   * List owner: when owner-LIST or LIST-owner exists at the domain (an alias, an exact
//     mailbox table entry, or in the default mapping its own directory under the mail root,
//     or for an address with an extension its exact forward file), mail forwarded through
//     LIST goes out with that address as envelope sender.
#pragma once

#include "local/delivery_target.hpp"
#include "local/mailbox_table.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::local {

struct owner_check {
    std::string address;      // owner-LIST@domain or LIST-owner@domain
    bool known = false;       // exists without looking at the disk
    // Default mapping (which answers for any safe name): exists when this mail-root relative
    // path does: the owner's directory, or, for an owner address with an extension (joe+list-owner
    // lives in joe's directory), its exact forward file (.qmail-list-owner), as qmail asks.
    std::string path_to_stat;
    bool expect_file = false;  // path_to_stat must be a regular file (else a directory)
};

struct expansion_plan {
    enum class kind { unknown_user, alias, mailbox };
    kind type = kind::unknown_user;
    std::string address;                     // the recipient, as the envelope has it
    std::vector<std::string> alias_members;  // kind alias: qualified members
    std::optional<std::string> own_maildir;  // the recipient's mailbox path, when it has one
    std::string user_dir;                    // kind mailbox: D of D/Maildir ("" = no forward files)
    std::vector<std::string> forward_files;  // names tried in user_dir, best first
    std::vector<owner_check> owners;         // in order of preference
};

// plan_expansion - PURE: step 1 for local_part@domain (a local domain).
expansion_plan plan_expansion(std::string_view local_part, std::string_view domain, const mailbox_table& t);

struct expansion_facts {
    std::string file_name;              // the forward file found ("" = none exists)
    std::string file_text;              // its contents
    std::string io_error;               // reading failed (symlink, too large, unreadable): defer
    std::vector<bool> owner_exists;     // per plan.owners entry: path_to_stat exists (false when not looked at)
};

struct expansion {
    enum class kind { targets, unknown_user, defer };
    kind type = kind::targets;
    std::string reason;                   // defer / unknown_user: why (for the log and the DSN)
    std::vector<delivery_target> targets; // maildir values relative to the mail root, in file order
    std::string user_dir;                 // non-empty: maildir targets below it came from a user file
    std::string envelope_sender;          // the list owner, or "" to keep the original sender
    std::string source;                   // "alias", a forward file name, or "mailbox"
};

// finish_expansion - PURE: step 3; parses the forward file (allow_program: see forward_file.hpp).
expansion finish_expansion(const expansion_plan& p, const expansion_facts& f, bool allow_program);

// is_own_mailbox_only - the expansion is exactly "deliver to the recipient's own maildir".
bool is_own_mailbox_only(const expansion_plan& p, const expansion& e);

}  // namespace postrider::local
