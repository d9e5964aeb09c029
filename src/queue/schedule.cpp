// queue/schedule.cpp: PURE backoff and expiry arithmetic.
#include "queue/schedule.hpp"

#include <algorithm>

namespace postrider::queue {

std::chrono::seconds retry_delay(std::uint32_t attempts, const backoff_policy& p) noexcept
{
    std::chrono::seconds d = p.first;
    for (std::uint32_t i = 1; i < attempts && d < p.cap && d.count() > 0; ++i) d *= 2;  // stops at cap
    return std::min(d, p.cap);
}

std::optional<sys_time> next_attempt(sys_time arrival, sys_time now, std::uint32_t attempts,
                                     const backoff_policy& p) noexcept
{
    sys_time expiry = arrival + p.lifetime;
    if (now >= expiry) return std::nullopt;
    return std::min(now + retry_delay(attempts, p), expiry);
}

}  // namespace postrider::queue
