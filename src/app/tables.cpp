#include "app/tables.hpp"

#include <exception>

#include "local/mailbox_table_file.hpp"
#include "outbound/table_file.hpp"

namespace postrider::app {

std::optional<tables> load_tables(const config::settings& s, std::vector<std::string>& errors)
{
    const auto before = errors.size();
    std::optional<local::mailbox_table> mailbox;
    try {
        mailbox = s.mailbox_table.empty() ? local::mailbox_table::defaults(s.local_domains)
                                          : local::load_mailbox_table(s.mailbox_table, s.local_domains);
        mailbox->set_recipient_delimiter(s.recipient_delimiter);
        if (!s.alias_table.empty()) mailbox->set_aliases(local::load_alias_table(s.alias_table));
    } catch (const std::exception& e) {
        errors.push_back(e.what());  // "FILE:LINE: ..." per bad line
        return std::nullopt;
    }
    outbound::transport_table routes;
    if (!s.transport_table.empty()) {
        routes = outbound::load_transport_table(s.transport_table, static_cast<std::uint16_t>(s.remote_smtp_port),
                                                errors);
        if (errors.size() != before) return std::nullopt;
    }
    outbound::tls_policy_table policies;
    if (!s.tls_policy_table.empty()) {
        policies = outbound::load_tls_policy_table(s.tls_policy_table, errors);
        if (errors.size() != before) return std::nullopt;
        if (policies.any_verifies() && s.remote_tls_ca_file.empty()) {
            errors.push_back("tls_policy_table: verify/secure entries need remote_tls_ca_file");
            return std::nullopt;
        }
    }
    std::shared_ptr<const inbound::auth_table> users;
    if (!s.auth_users_file.empty()) {
        try {
            users = std::make_shared<const inbound::auth_table>(inbound::load_auth_table(s.auth_users_file));
        } catch (const std::exception& e) {
            errors.push_back(e.what());
            return std::nullopt;
        }
    }
    return tables{std::move(*mailbox), std::move(routes), std::move(policies), std::move(users)};
}

}  // namespace postrider::app
