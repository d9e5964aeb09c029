// net/deadline_watch.hpp: one timer per connection that cancels its pending I/O at a deadline.
//
// Owns: the cheap form of "this read must finish by T" for connections that wait
//       many times (an SMTP session waits once per command). deadline_io's race
//       builds a timer and two sub-coroutines per wait, about 13,000 instructions;
//       here a wait only stores its deadline. The timer stays armed at the
//       earliest deadline it was given and, when it fires early because the
//       deadline has moved on, re-arms itself once: with a per-command timeout of
//       minutes that is one timer operation per timeout period, not per command.
// Trust: moves no bytes; calls on_expire (which should cancel the socket) only while alive.
// Threads: one executor; not thread-safe.
// Lifetime: destroy it before what on_expire touches; a pending timer handler keeps only
//       the watch's shared state alive and does nothing after the watch is gone.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace postrider::net {

class deadline_watch {
public:
    using clock = std::chrono::steady_clock;

    deadline_watch(boost::asio::any_io_executor ex, std::function<void()> on_expire);
    ~deadline_watch();
    deadline_watch(const deadline_watch&) = delete;
    deadline_watch& operator=(const deadline_watch&) = delete;

    // expire_at - the next operation must end by d; clears expired().
    void expire_at(clock::time_point d);
    // disarm - no operation waits now: a deadline passing cancels nothing (the socket may be
    //          busy with an operation bounded otherwise, such as a TLS handshake). Keeps expired().
    void disarm() noexcept { st_->deadline = clock::time_point::max(); }
    // expired - the deadline last given passed and on_expire ran.
    bool expired() const noexcept { return st_->expired; }

private:
    struct state {
        explicit state(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
        boost::asio::steady_timer timer;
        clock::time_point deadline = clock::time_point::max();  // the operation's
        clock::time_point armed = clock::time_point::max();     // the timer's
        bool waiting = false;
        bool expired = false;
        bool alive = true;
        std::function<void()> on_expire;
    };
    static void wait(const std::shared_ptr<state>& st);

    std::shared_ptr<state> st_;
};

}  // namespace postrider::net
