#include "support/catch.hpp"

#include "queue/schedule.hpp"

using namespace postrider::queue;
using namespace std::chrono_literals;

TEST_CASE("retry delay doubles from 5 minutes up to the 1 hour cap", "[schedule]")
{
    backoff_policy p;
    struct row { std::uint32_t attempts; std::chrono::seconds want; };
    auto r = GENERATE(values<row>({{1, 300s}, {2, 600s}, {3, 1200s}, {4, 2400s}, {5, 3600s}, {6, 3600s},
                                   {100, 3600s}, {4000000000u, 3600s}}));
    INFO("attempts " << r.attempts);
    CHECK(retry_delay(r.attempts, p) == r.want);
}

TEST_CASE("next attempt is now + delay, pulled in to the expiry, then none", "[schedule]")
{
    backoff_policy p;  // 5 days
    sys_time arrival{std::chrono::hours(1000000)};
    CHECK(next_attempt(arrival, arrival + 1s, 1, p) == arrival + 301s);
    CHECK(next_attempt(arrival, arrival + 2h, 3, p) == arrival + 2h + 1200s);
    // 30 minutes before expiry with an hourly delay: the last try is at the expiry moment.
    CHECK(next_attempt(arrival, arrival + p.lifetime - 30min, 40, p) == arrival + p.lifetime);
    CHECK_FALSE(next_attempt(arrival, arrival + p.lifetime, 41, p));
    CHECK_FALSE(next_attempt(arrival, arrival + p.lifetime + 1s, 41, p));
}

TEST_CASE("degenerate policies stay bounded", "[schedule]")
{
    backoff_policy zero{0s, 0s, 0s};
    sys_time t{std::chrono::hours(5)};
    CHECK(retry_delay(4000000000u, zero) == 0s);
    CHECK_FALSE(next_attempt(t, t, 1, zero));  // lifetime 0: the first failure is final
}
