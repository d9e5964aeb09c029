// app/tables.hpp: the table files the settings name, read and checked in one place.
//
// Owns: which files make up "the tables" (mailbox_table, alias_table, transport_table, tls_policy_table,
//       auth_users_file) and the checks across a table and the settings (verify/secure
//       entries need remote_tls_ca_file). Start-up (app/serve.cpp), SIGHUP (app/reload.cpp)
//       and check-config (app/cli.cpp) all load through here, so the three cannot drift.
// Trust: the files are admin-owned; their text goes through each table's parser.
// See also: docs/configuration.md (check-config, Reloading).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "inbound/auth_table.hpp"
#include "local/mailbox_table.hpp"
#include "outbound/tls_policy.hpp"
#include "outbound/transport_table.hpp"

namespace postrider::app {

struct tables {
    local::mailbox_table mailbox;                      // the file's, or the default mapping; delimiter and aliases set
    outbound::transport_table routes;                  // empty when transport_table is unset
    outbound::tls_policy_table tls_policies;           // empty when tls_policy_table is unset
    std::shared_ptr<const inbound::auth_table> users;  // null when auth_users_file is unset
};

// load_tables - read every table s names (blocking file I/O). On a problem, errors gets one
//               line each ("FILE:LINE: ..." for table lines), the tables after it are not
//               read, and the result is empty.
std::optional<tables> load_tables(const config::settings& s, std::vector<std::string>& errors);

}  // namespace postrider::app
