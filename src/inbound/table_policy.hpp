// inbound/table_policy.hpp: RCPT decisions from the local mailbox table.
//
// Owns: the mapping "domain ours? mailbox known?" -> smtp::rcpt_verdict.
// Trust: gets validated (parsed) local parts and domains from smtp/.
// Relay rule (no open relay): a recipient in a domain that is neither local nor
// listed in relay_domains (admin-chosen, like Postfix's relay_domains: a backup
// MX) is refused 554 5.7.1 for every client until relay control (issue 6) lands.
#pragma once

#include "local/mailbox_table.hpp"
#include "smtp/server_engine.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace postrider::inbound {

class table_policy final : public smtp::recipient_policy {
public:
    // relay_domains: lower-case domains accepted for any local part and relayed (exact match).
    explicit table_policy(const local::mailbox_table& table, std::vector<std::string> relay_domains = {})
        : table_(table), relay_(std::move(relay_domains))
    {
        for (auto& d : relay_)
            for (auto& c : d) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        // Sorted once, searched per RCPT: a backup MX or fan-out host may list thousands.
        std::sort(relay_.begin(), relay_.end());
    }

    smtp::rcpt_verdict check(std::string_view local_part, std::string_view domain) const override
    {
        if (!table_.is_local_domain(domain)) return is_relay_domain(domain) ? smtp::rcpt_verdict::accept
                                                                            : smtp::rcpt_verdict::relay_denied;
        return table_.accepts(local_part, domain) ? smtp::rcpt_verdict::accept : smtp::rcpt_verdict::unknown_user;
    }

private:
    // is_relay_domain - case-insensitive exact match against relay_domains.
    bool is_relay_domain(std::string_view domain) const
    {
        std::string d(domain);
        for (auto& c : d) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        return std::binary_search(relay_.begin(), relay_.end(), d);
    }

    const local::mailbox_table& table_;
    std::vector<std::string> relay_;
};

}  // namespace postrider::inbound
