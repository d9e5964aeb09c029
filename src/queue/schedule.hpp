// queue/schedule.hpp: PURE retry schedule: backoff after temporary failures, queue lifetime.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: when a deferred recipient is tried next, and when it expires.
// Trust: pure arithmetic on our own times; no input from the network.
// Schedule (docs/queue-format.md "Retry schedule"): after the n-th failed
//   attempt wait first * 2^(n-1), capped at cap: 5, 10, 20, 40 min, then hourly.
//   The last retry is pulled in to the expiry moment (arrival + lifetime);
//   a failure at or after that moment is final (the recipient bounces).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace postrider::queue {

using sys_time = std::chrono::system_clock::time_point;

struct backoff_policy {
    std::chrono::seconds first{300};                // Postfix minimal_backoff_time
    std::chrono::seconds cap{3600};                 // Postfix maximal_backoff_time is 4000 s
    std::chrono::seconds lifetime{5 * 24 * 3600};   // Postfix maximal_queue_lifetime
};

// retry_delay - wait after the attempts-th consecutive failure (attempts >= 1).
std::chrono::seconds retry_delay(std::uint32_t attempts, const backoff_policy& p) noexcept;
// next_attempt - when to try again after a temporary failure at now, or nullopt
//                when the message has outlived its lifetime (fail it permanently).
std::optional<sys_time> next_attempt(sys_time arrival, sys_time now, std::uint32_t attempts,
                                     const backoff_policy& p) noexcept;

}  // namespace postrider::queue
