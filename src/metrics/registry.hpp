// metrics/registry.hpp: the daemon's counters and histograms, and the Prometheus text format.
// PURE: no I/O, no clock; callers pass durations in, the HTTP endpoint (metrics/http.hpp) serves render().
//
// Owns: deliveries by result and transport, commit and delivery latency histograms,
//       and rendering them with gauges (queue, sessions) sampled at scrape time.
// Threads: every member is safe to call from any thread (one mutex; updates are rare
//          next to the disk and network work they describe).
// See also: docs/configuration.md (metrics_listen), docs/scaling.md (what to alert on).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace postrider::metrics {

// histogram - cumulative buckets in seconds, as Prometheus expects.
struct histogram {
    static constexpr std::array<double, 12> bounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,   0.25,   0.5,   1,    2.5,   10};
    std::array<std::uint64_t, bounds.size()> buckets{};  // count of observations <= bound
    std::uint64_t count = 0;
    double sum = 0;

    void observe(double seconds);
};

// queue_sample - one line of the queue gauge: recipients in a state for a destination.
struct queue_sample {
    std::string state;        // active (attempt in flight) | ready (due now) | deferred (waiting to retry)
    std::string destination;  // "local", a remote domain, or "other" past the cardinality cap
    std::uint64_t recipients = 0;
};

// scrape_sample - gauges read from the running daemon at scrape time.
struct scrape_sample {
    std::vector<queue_sample> queue;
    std::uint64_t messages = 0;         // messages in the queue
    std::uint64_t sessions_active = 0;  // inbound SMTP sessions now
    std::uint64_t sessions_total = 0;   // inbound SMTP sessions since start
    std::uint64_t flush_rounds = 0;     // group-commit flush rounds (syncfs) since start
    bool ready = true;                  // false while stopping
};

class registry {
public:
    // delivery - one recipient attempt finished: result sent|deferred|bounced|expired; transport local|remote.
    void delivery(const std::string& result, const std::string& transport, double seconds);
    // commit - one message durably queued (or not: ok = false) after seconds.
    void commit(bool ok, double seconds);
    // render - the Prometheus text exposition (version 0.0.4) of everything, with s's gauges.
    std::string render(const scrape_sample& s) const;

private:
    mutable std::mutex m_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> deliveries_;  // (result, transport)
    std::map<std::string, histogram> delivery_seconds_;  // by transport
    std::map<bool, std::uint64_t> commits_;
    histogram commit_seconds_;
};

// label_value - escape a label value: \\ \" \n, as the exposition format requires.
std::string label_value(const std::string& raw);

}  // namespace postrider::metrics
