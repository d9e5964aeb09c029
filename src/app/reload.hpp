// app/reload.hpp: SIGHUP: read the configuration again and apply what can change live.
//
// Owns: the all-or-nothing rule: a new configuration (settings and every table) is
//       checked completely before anything is swapped; one bad line keeps the old one.
// Live: log_level, local_domains + mailbox_table + recipient_delimiter, transport_table, tls_policy_table,
//       auth_users_file (when AUTH was on at start). Anything else that changed is
//       reported as waiting for a restart (listeners, queue, limits...).
//       (The TLS certificate is re-read by its own SIGHUP watcher in serve.cpp.)
// Threads: call on the io_context's thread (the tables are read there, between awaits).
// See also: docs/configuration.md (Reloading), app/serve.cpp.
#pragma once

#include <functional>
#include <string>

#include "app/options.hpp"
#include "config/settings.hpp"
#include "local/mailbox_table.hpp"

namespace postrider::outbound { class pool; }
namespace postrider::inbound { class server; }

namespace postrider::app {

struct live_config {
    config::settings current;     // the settings in effect
    local::mailbox_table& table;  // read by the queue manager and the inbound policy
    outbound::pool& remote;
    inbound::server& server;      // its AUTH users table
};

// reload - load() again; on any error log "reload refused: ..." per problem and keep
//          everything; else swap the live parts in. Returns whether it was applied.
bool reload(const std::function<loaded_options()>& load, live_config& live);

}  // namespace postrider::app
