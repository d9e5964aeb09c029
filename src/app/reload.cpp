#include "app/reload.hpp"

#include <optional>
#include <vector>

#include "app/tables.hpp"
#include "core/log_format.hpp"
#include "inbound/server.hpp"
#include "log/log.hpp"
#include "outbound/pool.hpp"

namespace postrider::app {
namespace {

// with_live_parts - s with the live-reloadable fields taken from from.
config::settings with_live_parts(config::settings s, const config::settings& from)
{
    s.log_level = from.log_level;
    s.local_domains = from.local_domains;
    s.mailbox_table = from.mailbox_table;
    s.alias_table = from.alias_table;
    s.recipient_delimiter = from.recipient_delimiter;
    s.transport_table = from.transport_table;
    s.tls_policy_table = from.tls_policy_table;
    s.auth_users_file = from.auth_users_file;
    return s;
}

}  // namespace

bool reload(const std::function<loaded_options()>& load, live_config& live)
{
    auto o = load();
    auto& errors = o.errors;
    // The tables as they would be live: the new live parts over the settings in effect
    // (the port and CA file the tables are checked against change only with a restart).
    auto next = with_live_parts(live.current, o.settings);
    if (!live.server.auth_enabled()) next.auth_users_file.clear();  // not read: it cannot go live
    std::optional<tables> t;
    if (errors.empty()) t = load_tables(next, errors);
    if (errors.empty() && live.server.auth_enabled() && o.settings.auth_users_file.empty())
        errors.push_back("auth_users_file: AUTH cannot be switched off by a reload (restart)");
    if (!errors.empty()) {
        const std::string where = o.config_file.empty() ? "" : o.config_file + ": ";
        for (const auto& e : errors) log::error("reload refused, old configuration kept: {}{}", where, e);
        return false;
    }
    // Everything checked: swap. No await between here and the end, so no reader sees a mix.
    live.table = std::move(t->mailbox);
    live.remote.set_routes(std::move(t->routes));
    live.remote.set_tls_policies(std::move(t->tls_policies));
    if (t->users) live.server.set_auth_users(std::move(t->users));
    else if (!o.settings.auth_users_file.empty())
        log::warn("reload: auth_users_file takes effect only after a restart (AUTH was off at start)");
    const bool restart_needed = with_live_parts(o.settings, live.current) != live.current;
    live.current = with_live_parts(live.current, o.settings);
    log::info("reload: configuration reloaded log_level={} local_domains={} mailbox_table={} alias_table={} transport_table={} "
              "tls_policy_table={} auth_users_file={}",
              live.current.log_level, live.current.local_domains.size(),
              core::logfmt_value(live.current.mailbox_table), core::logfmt_value(live.current.alias_table),
              core::logfmt_value(live.current.transport_table),
              core::logfmt_value(live.current.tls_policy_table), core::logfmt_value(live.current.auth_users_file));
    if (restart_needed)
        log::warn("reload: other changed settings take effect only after a restart "
                  "(live: log_level, local_domains, mailbox_table, alias_table, recipient_delimiter, transport_table, tls_policy_table, auth_users_file)");
    log::set_level(live.current.log_level);  // last: the lines above still show at the old level
    return true;
}

}  // namespace postrider::app
