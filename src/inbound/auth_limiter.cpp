#include "inbound/auth_limiter.hpp"

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
    while (clients_.size() >= max_clients_) {
        auto oldest = clients_.begin();
        for (auto it = clients_.begin(); it != clients_.end(); ++it)
            if (it->second.first < oldest->second.first) oldest = it;
        clients_.erase(oldest);
    }
}

}  // namespace postrider::inbound
