#include "app/reload.hpp"

#include <exception>
#include <optional>
#include <vector>

#include "core/log_format.hpp"
#include "inbound/auth_table.hpp"
#include "inbound/server.hpp"
#include "local/mailbox_table_file.hpp"
#include "log/log.hpp"
#include "outbound/pool.hpp"
#include "outbound/table_file.hpp"

namespace postrider::app {
namespace {

// load_table - the mailbox table the settings name (or the default mapping); errors appended.
std::optional<local::mailbox_table> load_table(const config::settings& s, std::vector<std::string>& errors)
{
    try {
        auto t = s.mailbox_table.empty() ? local::mailbox_table::defaults(s.local_domains)
                                         : local::load_mailbox_table(s.mailbox_table, s.local_domains);
        t.set_recipient_delimiter(s.recipient_delimiter);
        return t;
    } catch (const std::exception& e) {
        errors.push_back(e.what());  // "FILE:LINE: ..." per bad line
        return std::nullopt;
    }
}

// with_live_parts - s with the live-reloadable fields taken from from.
config::settings with_live_parts(config::settings s, const config::settings& from)
{
    s.log_level = from.log_level;
    s.local_domains = from.local_domains;
    s.mailbox_table = from.mailbox_table;
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
    std::optional<local::mailbox_table> table;
    outbound::transport_table routes;
    if (errors.empty()) table = load_table(o.settings, errors);
    if (errors.empty() && !o.settings.transport_table.empty())
        routes = outbound::load_transport_table(o.settings.transport_table,
                                                static_cast<std::uint16_t>(live.current.remote_smtp_port), errors);
    outbound::tls_policy_table policies;
    if (errors.empty() && !o.settings.tls_policy_table.empty()) {
        policies = outbound::load_tls_policy_table(o.settings.tls_policy_table, errors);
        if (errors.empty() && policies.any_verifies() && live.current.remote_tls_ca_file.empty())
            errors.push_back("tls_policy_table: verify/secure entries need remote_tls_ca_file");
    }
    std::shared_ptr<const inbound::auth_table> users;
    if (errors.empty() && live.server.auth_enabled()) {
        if (o.settings.auth_users_file.empty()) {
            errors.push_back("auth_users_file: AUTH cannot be switched off by a reload (restart)");
        } else {
            try {
                users = std::make_shared<const inbound::auth_table>(inbound::load_auth_table(o.settings.auth_users_file));
            } catch (const std::exception& e) {
                errors.push_back(e.what());
            }
        }
    }
    if (!errors.empty()) {
        const std::string where = o.config_file.empty() ? "" : o.config_file + ": ";
        for (const auto& e : errors) log::error("reload refused, old configuration kept: {}{}", where, e);
        return false;
    }
    // Everything checked: swap. No await between here and the end, so no reader sees a mix.
    live.table = std::move(*table);
    live.remote.set_routes(std::move(routes));
    live.remote.set_tls_policies(std::move(policies));
    if (users) live.server.set_auth_users(std::move(users));
    else if (!o.settings.auth_users_file.empty())
        log::warn("reload: auth_users_file takes effect only after a restart (AUTH was off at start)");
    const bool restart_needed = with_live_parts(o.settings, live.current) != live.current;
    live.current = with_live_parts(live.current, o.settings);
    log::info("reload: configuration reloaded log_level={} local_domains={} mailbox_table={} transport_table={} "
              "tls_policy_table={} auth_users_file={}",
              live.current.log_level, live.current.local_domains.size(),
              core::logfmt_value(live.current.mailbox_table), core::logfmt_value(live.current.transport_table),
              core::logfmt_value(live.current.tls_policy_table), core::logfmt_value(live.current.auth_users_file));
    if (restart_needed)
        log::warn("reload: other changed settings take effect only after a restart "
                  "(live: log_level, local_domains, mailbox_table, recipient_delimiter, transport_table, tls_policy_table, auth_users_file)");
    log::set_level(live.current.log_level);  // last: the lines above still show at the old level
    return true;
}

}  // namespace postrider::app
