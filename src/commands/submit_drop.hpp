// commands/submit_drop.hpp: helpers the sendmail modes share: address
//                           qualification and the write into the maildrop.
//
// Trust: addresses are the local user's text; only smtp/ parsers decide
//        whether they are valid. The maildrop write is the durable step
//        after which sendmail may exit 0 (the daemon takes it from there).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "config/settings.hpp"
#include "pickup/drop_format.hpp"

namespace postrider::commands {

// qualify - a validated local@domain for a user-given address; a bare local part
//           gets @domain (qmail-inject's and Postfix's append_at_myorigin).
//           utf8 is set when the address needed SMTPUTF8. nullopt if invalid.
std::optional<std::string> qualify(std::string_view raw, const std::string& domain, bool& utf8);

// write_to_maildrop - drop an encoded record (pickup::encode_drop) under a fresh name (returned in name).
std::error_code write_to_maildrop(const config::settings& s, std::string_view record, std::string& name);

struct drop_outcome {
    int status = 0;     // sysexits.h; EX_OK: the message is durable in maildrop/new
    std::string name;   // the maildrop file name when EX_OK
    std::string error;  // the failure sentence, for stderr or a 4xx text
};

// drop_message - root and the owner of queue_dir: write_to_maildrop; anyone else, or
//                when that write is not permitted (docs/security.md rule 1): hand the
//                record to postrider-postdrop.
drop_outcome drop_message(const config::settings& s, const pickup::dropped_message& m);

// drop_failure_text - an explanation for a failed maildrop write, for stderr.
std::string drop_failure_text(const config::settings& s, std::error_code ec);

// drop_failure_exit - EX_NOPERM for permission problems, else EX_TEMPFAIL (try again later).
int drop_failure_exit(std::error_code ec);

}  // namespace postrider::commands
