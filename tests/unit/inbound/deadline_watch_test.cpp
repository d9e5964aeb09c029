// tests/unit/inbound/deadline_watch_test.cpp: net::deadline_watch on its own (its users, the
// inbound session and the outbound client, are tested against silent peers elsewhere; net has
// no unit-test binary of its own).
#include "support/catch.hpp"

#include "net/deadline_watch.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <optional>

namespace asio = boost::asio;
using postrider::net::deadline_watch;
using namespace std::chrono_literals;

namespace {

struct fixture {
    asio::io_context io;
    int fired = 0;
    std::optional<deadline_watch> watch{std::in_place, io.get_executor(), [this] { ++fired; }};

    void run_for(std::chrono::milliseconds d)
    {
        io.restart();
        io.run_for(d);
    }
    static deadline_watch::clock::time_point in(std::chrono::milliseconds d) { return deadline_watch::clock::now() + d; }
};

}  // namespace

TEST_CASE("deadline_watch fires once at the deadline last given", "[deadline_watch]")
{
    fixture f;
    f.watch->expire_at(f.in(50ms));
    f.run_for(150ms);
    CHECK(f.fired == 1);
    CHECK(f.watch->expired());
    f.watch->expire_at(f.in(1s));  // a new wait clears expired
    CHECK_FALSE(f.watch->expired());
}

TEST_CASE("deadline_watch follows a deadline moved later or earlier", "[deadline_watch]")
{
    fixture f;
    f.watch->expire_at(f.in(50ms));
    f.watch->expire_at(f.in(250ms));  // later: the timer fires at 50 ms and re-arms
    f.run_for(150ms);
    CHECK(f.fired == 0);
    f.run_for(250ms);
    CHECK(f.fired == 1);

    f.watch->expire_at(f.in(10s));
    f.watch->expire_at(f.in(50ms));  // earlier: the timer is moved
    f.run_for(150ms);
    CHECK(f.fired == 2);
}

TEST_CASE("a disarmed deadline_watch cancels nothing until the next expire_at", "[deadline_watch]")
{
    fixture f;
    f.watch->expire_at(f.in(50ms));
    f.watch->disarm();
    f.run_for(150ms);
    CHECK(f.fired == 0);
    CHECK_FALSE(f.watch->expired());
    f.watch->expire_at(f.in(50ms));  // the stopped timer starts again
    f.run_for(150ms);
    CHECK(f.fired == 1);
}

TEST_CASE("a destroyed deadline_watch never calls on_expire", "[deadline_watch]")
{
    fixture f;
    f.watch->expire_at(f.in(20ms));
    f.watch.reset();
    f.run_for(100ms);
    CHECK(f.fired == 0);
    CHECK(f.io.stopped());  // the pending handler ran and let go of the state
}
