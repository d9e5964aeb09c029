// tests/unit/queue/envelopes.hpp: the canned envelope the store and journal tests commit.
#pragma once

#include "queue/record.hpp"

#include <string>
#include <vector>

namespace postrider::test {

// make_envelope - from alice@example.org to recipients, arrived at a fixed moment.
inline queue::envelope make_envelope(const std::string& id,
                                     const std::vector<std::string>& recipients = {"bob@example.org"})
{
    queue::envelope e;
    e.queue_id = id;
    e.sender = "alice@example.org";
    for (const auto& r : recipients) e.recipients.push_back({r, "", 0});
    e.arrival_us = 1700000000000000;
    return e;
}

}  // namespace postrider::test
