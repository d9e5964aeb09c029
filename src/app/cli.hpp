// app/cli.hpp: subcommand and argv[0] dispatch for the one postrider binary.
//
// Owns: which job runs (serve, check-config, version; sendmail/mailq/newaliases
//       by argv[0]) and the mapping of start-up failures to sysexits codes.
// Trust: argv is the local user's; nothing here is reachable from the network.
#pragma once

namespace postrider::app {

// run_cli - the whole program; returns the process exit status.
int run_cli(int argc, char** argv);

}  // namespace postrider::app
