// net/deadline_io.hpp: socket reads and writes that give up at a deadline.
//
// Owns: the one place where "operation || timer" is written (Asio 1.26 has no
//       cancel_after; when Boost >= 1.86 arrives only this file changes).
// Trust: moves bytes only; never interprets them.
// Note: `||` completes after BOTH sides finish; the loser is cancelled through
//       its cancellation slot, which Asio sockets and timers honour.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <string_view>
#include <tuple>

namespace postrider::net {

using clock = std::chrono::steady_clock;

struct io_result {
    boost::system::error_code ec;
    std::size_t bytes = 0;
    bool timed_out = false;
};

namespace detail {

// race - op against a timer at deadline: the one place "operation || timer" is written.
//        op completes with (error_code) or (error_code, bytes).
template <class... Rest>
boost::asio::awaitable<io_result> race(boost::asio::awaitable<std::tuple<boost::system::error_code, Rest...>> op,
                                       clock::time_point deadline)
{
    static_assert(sizeof...(Rest) <= 1, "an operation completes with (ec) or (ec, bytes)");
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
    auto r = co_await (std::move(op) || timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
    if (r.index() == 1) co_return io_result{{}, 0, true};
    const auto done = std::get<0>(r);
    io_result out{std::get<0>(done), 0, false};
    if constexpr (sizeof...(Rest) == 1) out.bytes = std::get<1>(done);
    co_return out;
}

inline constexpr auto tok = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace detail

// read_some_by - read what is available into buf, or time out at deadline.
template <class Stream>
boost::asio::awaitable<io_result> read_some_by(Stream& s, boost::asio::mutable_buffer buf,
                                               clock::time_point deadline)
{
    auto r = co_await detail::race(s.async_read_some(buf, detail::tok), deadline);
    co_return r;
}

// wait_readable_by - wait until the peer has sent something (or closed), or time out.
//                    Holds no buffer while waiting: that is what keeps idle sessions small.
template <class Socket>
boost::asio::awaitable<io_result> wait_readable_by(Socket& s, clock::time_point deadline)
{
    auto r = co_await detail::race(s.async_wait(Socket::wait_read, detail::tok), deadline);
    co_return r;
}

// write_all_by - write every byte of data, or time out at deadline (a peer that never reads).
template <class Stream>
boost::asio::awaitable<io_result> write_all_by(Stream& s, std::string_view data, clock::time_point deadline)
{
    auto r = co_await detail::race(boost::asio::async_write(s, boost::asio::buffer(data), detail::tok), deadline);
    co_return r;
}

// handshake_by - TLS server handshake, or time out at deadline (a client that never finishes it).
template <class TlsStream>
boost::asio::awaitable<io_result> handshake_by(TlsStream& s, clock::time_point deadline)
{
    auto r = co_await detail::race(s.async_handshake(TlsStream::server, detail::tok), deadline);
    co_return r;
}

}  // namespace postrider::net
