// outbound/limiter.cpp: concurrency slots (see limiter.hpp).
#include "outbound/limiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace postrider::outbound {

namespace asio = boost::asio;

asio::awaitable<limiter::slot> limiter::acquire(std::string dest)
{
    if (stopped_) co_return slot{};
    auto& d = dests_[dest];
    if (active_ < total_ && d.active < per_dest_ && d.waiting.empty()) {
        ++active_;
        ++d.active;
        co_return slot{shared_from_this(), std::move(dest)};
    }
    auto w = std::make_shared<waiter>(ex_);
    w->timer.expires_at(asio::steady_timer::time_point::max());
    if (d.waiting.empty()) turns_.push_back(dest);
    d.waiting.push_back(w);
    auto self = shared_from_this();  // keep *this alive while we wait
    while (!w->granted && !stopped_) co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!w->granted) co_return slot{};
    co_return slot{std::move(self), std::move(dest)};
}

void limiter::release(const std::string& dest)
{
    auto it = dests_.find(dest);
    if (it == dests_.end() || it->second.active == 0 || active_ == 0) return;  // cannot happen; stay safe
    --active_;
    --it->second.active;
    if (it->second.active == 0 && it->second.waiting.empty()) dests_.erase(it);
    grant();
}

void limiter::grant()
{
    // Each pass over turns_ visits every waiting destination once; stop when no one could take a slot.
    std::size_t idle_visits = 0;
    while (active_ < total_ && !turns_.empty() && idle_visits < turns_.size()) {
        std::string name = std::move(turns_.front());
        turns_.pop_front();
        auto it = dests_.find(name);
        if (it == dests_.end() || it->second.waiting.empty()) continue;
        auto& d = it->second;
        if (d.active >= per_dest_) {
            turns_.push_back(std::move(name));
            ++idle_visits;
            continue;
        }
        auto w = std::move(d.waiting.front());
        d.waiting.pop_front();
        ++active_;
        ++d.active;
        w->granted = true;
        w->timer.cancel();
        idle_visits = 0;
        if (!d.waiting.empty()) turns_.push_back(std::move(name));
    }
}

void limiter::stop()
{
    stopped_ = true;
    for (auto& [name, d] : dests_)
        for (auto& w : d.waiting) w->timer.cancel();
    for (auto& [name, d] : dests_) d.waiting.clear();
    turns_.clear();
}

std::size_t limiter::waiting() const noexcept
{
    std::size_t n = 0;
    for (const auto& [name, d] : dests_) n += d.waiting.size();
    return n;
}

}  // namespace postrider::outbound
