// inbound/table_policy.hpp: RCPT verdicts from the mailbox table and relay_domains.
#include "support/catch.hpp"

#include "inbound/table_policy.hpp"

#include <string>
#include <vector>

using postrider::inbound::table_policy;
using postrider::smtp::rcpt_verdict;

TEST_CASE("table_policy: local mailboxes, relay domains among many, everything else denied", "[policy]")
{
    auto table = postrider::local::mailbox_table::defaults({"localhost"});
    std::vector<std::string> relay;
    for (int i = 999; i >= 0; --i) relay.push_back("D" + std::to_string(i) + ".Test");  // unsorted, mixed case
    table_policy p(table, relay);

    CHECK(p.check("alice", "localhost") == rcpt_verdict::accept);
    CHECK(p.check("../x", "localhost") == rcpt_verdict::unknown_user);
    for (const char* d : {"d0.test", "d999.test", "d500.test", "D42.TEST"}) {
        INFO(d);
        CHECK(p.check("anyone", d) == rcpt_verdict::accept);
    }
    for (const char* d : {"d1000.test", "d5.tes", "test", "", "d5.test.evil", "xd5.test"}) {
        INFO(d);
        CHECK(p.check("anyone", d) == rcpt_verdict::relay_denied);
    }
    table_policy none(table);
    CHECK(none.check("anyone", "d0.test") == rcpt_verdict::relay_denied);
}
