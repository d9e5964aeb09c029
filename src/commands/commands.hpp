// commands/commands.hpp: the local command-line tools of the one binary:
//                        sendmail(1) (with -bs, -bp, -q, -bi), mailq and
//                        `postrider queue`.
//
// Owns: what each tool does and its sysexits.h exit status.
// Trust: argv, stdin and the environment are a LOCAL user's (see
//        docs/security.md): nothing here is reachable from the network, and
//        nothing here runs with more privilege than its caller. Messages
//        leave this code only as maildrop files, which the daemon validates
//        again as untrusted input.
// See also: docs/sendmail.md.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace postrider::commands {

// Loads the configuration (file may be empty: defaults + POSTRIDER_* environment);
// nullopt with one sentence per problem in errors.
using config_loader = std::function<std::optional<config::settings>(const std::string& file,
                                                                    std::vector<std::string>& errors)>;

// sendmail_main - sendmail(1), also as mailq and newaliases (invoked_as = argv[0]'s basename).
int sendmail_main(const std::vector<std::string>& args, const std::string& invoked_as, const config_loader& load);

// queue_main - `postrider queue list|show|stats|flush|delete|requeue ...`.
int queue_main(const std::vector<std::string>& args, const config_loader& load);

// queue_list - mailq: the queue in Postfix's layout (json: one object per line).
int queue_list(const config::settings& s, bool json);
// queue_flush - ask the running daemon to retry every deferred recipient now.
int queue_flush(const config::settings& s);
// queue_requeue - `queue requeue ID...|--all` (Postfix postsuper -r): deferred recipients
//                 due now with a fresh retry schedule; by the daemon when it runs,
//                 else journalled on disk for its next start. queue_requeue.cpp.
int queue_requeue(const config::settings& s, const std::vector<std::string>& args);

}  // namespace postrider::commands
