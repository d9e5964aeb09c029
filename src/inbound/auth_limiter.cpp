#include "inbound/auth_limiter.hpp"

#include <algorithm>
#include <vector>

namespace postrider::inbound {

bool auth_limiter::blocked(const std::string& client, time_point now)
{
    auto it = clients_.find(client);
    if (it == clients_.end()) return false;
    if (now - it->second.first >= window_) {
        clients_.erase(it);
        return false;
    }
    return it->second.failures >= limit_;
}

void auth_limiter::failed(const std::string& client, time_point now)
{
    auto it = clients_.find(client);
    if (it != clients_.end() && now - it->second.first >= window_) {
        clients_.erase(it);
        it = clients_.end();
    }
    if (it == clients_.end()) {
        make_room(now);
        it = clients_.emplace(client, entry{0, now}).first;
    }
    ++it->second.failures;
}

void auth_limiter::make_room(time_point now)
{
    if (clients_.size() < max_clients_) return;
    for (auto it = clients_.begin(); it != clients_.end();)
        it = now - it->second.first >= window_ ? clients_.erase(it) : std::next(it);
    if (clients_.size() < max_clients_ || clients_.empty()) return;
    // All live: forget the oldest tenth at once, so a flood of new addresses costs one
    // scan per max_clients_/10 of them instead of two scans of the whole table each. Blocked
    // addresses are kept while any other can go: otherwise a flood of fresh addresses would
    // push the guesser out (it is usually the oldest entry) and restart its count.
    auto is_blocked = [this](const entry& e) { return e.failures >= limit_; };
    std::vector<time_point> firsts;
    firsts.reserve(clients_.size());
    for (const auto& [client, e] : clients_)
        if (!is_blocked(e)) firsts.push_back(e.first);
    const bool spare_blocked = !firsts.empty();
    if (!spare_blocked)
        for (const auto& [client, e] : clients_) firsts.push_back(e.first);
    const auto drop = std::min(firsts.size(), std::max<std::size_t>(1, max_clients_ / 10));
    std::nth_element(firsts.begin(), firsts.begin() + static_cast<std::ptrdiff_t>(drop - 1), firsts.end());
    const auto cutoff = firsts[drop - 1];
    for (auto it = clients_.begin(); it != clients_.end();)
        it = it->second.first <= cutoff && !(spare_blocked && is_blocked(it->second)) ? clients_.erase(it)
                                                                                      : std::next(it);
}

}  // namespace postrider::inbound
