// inbound/table_policy.hpp: RCPT decisions from the local mailbox table.
//
// Owns: the mapping "domain ours? mailbox known?" -> smtp::rcpt_verdict.
// Trust: gets validated (parsed) local parts and domains from smtp/.
// Relay rule (no open relay): a recipient in a domain that is not local is
// refused 554 5.7.1 for every client until relay control (issue 6) lands.
#pragma once

#include "local/mailbox_table.hpp"
#include "smtp/server_engine.hpp"

namespace postrider::inbound {

class table_policy final : public smtp::recipient_policy {
public:
    explicit table_policy(const local::mailbox_table& table) : table_(table) {}

    smtp::rcpt_verdict check(std::string_view local_part, std::string_view domain) const override
    {
        if (!table_.is_local_domain(domain)) return smtp::rcpt_verdict::relay_denied;
        return table_.lookup(local_part, domain) ? smtp::rcpt_verdict::accept : smtp::rcpt_verdict::unknown_user;
    }

private:
    const local::mailbox_table& table_;
};

}  // namespace postrider::inbound
