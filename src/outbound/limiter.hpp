// outbound/limiter.hpp: global and per-destination concurrency slots with a FIFO queue per destination.
//
// Owns: the counts of deliveries in progress, in total and per destination, and
//       who waits for a slot. Destinations take turns (round robin) when a slot
//       frees, so one slow or dead destination holds at most its own limit and
//       never blocks another destination's queue.
// Trust: destination names come from the queue (validated domains) or config.
// Threads: one executor (the io_context's single thread or a strand).
// Lifetime: shared_ptr-owned: a slot held by a coroutine frame keeps it alive,
//        so frames destroyed late (io_context shutdown) release safely.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

namespace postrider::outbound {

class limiter : public std::enable_shared_from_this<limiter> {
public:
    // slot - RAII: a granted slot, released when destroyed. Empty when the wait was abandoned.
    class slot {
    public:
        slot() = default;
        slot(std::shared_ptr<limiter> l, std::string dest) : l_(std::move(l)), dest_(std::move(dest)) {}
        slot(slot&&) noexcept = default;
        slot& operator=(slot&&) = delete;
        ~slot()
        {
            if (l_) l_->release(dest_);
        }
        explicit operator bool() const noexcept { return l_ != nullptr; }

    private:
        std::shared_ptr<limiter> l_;
        std::string dest_;
    };

    limiter(boost::asio::any_io_executor ex, std::size_t total, std::size_t per_destination)
        : ex_(std::move(ex)), total_(total), per_dest_(per_destination)
    {
    }

    // acquire - wait for a slot for dest (FIFO per destination); empty after stop().
    boost::asio::awaitable<slot> acquire(std::string dest);
    // stop - wake every waiter with an empty slot; later acquires return empty at once.
    void stop();

    std::size_t active() const noexcept { return active_; }
    std::size_t waiting() const noexcept;

private:
    struct waiter {
        explicit waiter(boost::asio::any_io_executor ex) : timer(ex) {}
        boost::asio::steady_timer timer;  // woken by cancel(): a condition variable for coroutines
        bool granted = false;
    };
    struct destination {
        std::size_t active = 0;
        std::deque<std::shared_ptr<waiter>> waiting;
    };

    // release - give back dest's slot and hand free slots to waiting destinations.
    void release(const std::string& dest);
    // grant - round robin over destinations with waiters while slots are free.
    void grant();

    boost::asio::any_io_executor ex_;
    std::size_t total_, per_dest_;
    std::size_t active_ = 0;
    bool stopped_ = false;
    std::unordered_map<std::string, destination> dests_;
    std::deque<std::string> turns_;  // destinations with waiters, in round-robin order
};

}  // namespace postrider::outbound
