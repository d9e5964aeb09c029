// commands/smtp_stdio.hpp: sendmail -bs: an SMTP session on stdin/stdout.
//
// Owns: the byte pump between fds 0/1 and the pure smtp::server_engine, and
//       the "commit" of each accepted message as a maildrop file.
// Trust: the peer is the local user's program (e.g. swaks --pipe, a user
//        agent that speaks SMTP to "sendmail -bs"). The engine enforces every
//        protocol limit; content is checked with pickup::check_content before
//        the 250, so a message the daemon would refuse is refused here (451).
// XXX: no read timeout: the session ends when stdin closes, as with Postfix's
//      sendmail -bs (the caller owns both ends of the pipe).
#pragma once

#include "config/settings.hpp"

namespace postrider::commands {

// smtp_stdio - run the session until QUIT or end of input; EX_OK, or EX_IOERR on a write failure.
int smtp_stdio(const config::settings& s);

}  // namespace postrider::commands
