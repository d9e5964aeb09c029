// inbound/auth_limiter.hpp: failed SMTP AUTH attempts counted per client address.
//
// Owns: the "too many failures from this address" decision (password guessing).
// Trust: keys are peer addresses (UNTRUSTED, but only as map keys). Memory is
//        bounded: at most max_clients addresses are tracked; when full, expired
//        entries are dropped first, then the oldest tenth (one scan per batch,
//        so a flood of distinct addresses costs O(1) per failure amortised).
// PURE: the time is a parameter.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace postrider::inbound {

class auth_limiter {
public:
    using time_point = std::chrono::steady_clock::time_point;

    // limit failures within window block further AUTH from that address until they age out.
    auth_limiter(std::size_t limit, std::chrono::seconds window, std::size_t max_clients = 10000)
        : limit_(limit), window_(window), max_clients_(max_clients)
    {
    }

    // blocked - this address reached the limit within the window.
    bool blocked(const std::string& client, time_point now);
    // failed - count one failure (the window restarts at the first failure after it expired).
    void failed(const std::string& client, time_point now);
    // succeeded - a correct password clears the address's count.
    void succeeded(const std::string& client) { clients_.erase(client); }
    std::size_t tracked() const noexcept { return clients_.size(); }

private:
    struct entry {
        std::size_t failures = 0;
        time_point first;
    };
    void make_room(time_point now);

    std::size_t limit_;
    std::chrono::seconds window_;
    std::size_t max_clients_;
    std::unordered_map<std::string, entry> clients_;
};

}  // namespace postrider::inbound
