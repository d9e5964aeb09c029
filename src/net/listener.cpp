#include "net/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>

#include "log/log.hpp"

namespace postrider::net {

namespace asio = boost::asio;
using asio::ip::tcp;

listener::listener(asio::any_io_executor ex, const tcp::endpoint& where) : acceptor_(ex)
{
    acceptor_.open(where.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    if (where.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(true));
    acceptor_.bind(where);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

listener::listener(asio::any_io_executor ex, int listening_fd) : acceptor_(ex)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        throw boost::system::system_error(errno, boost::system::system_category(), "getsockname");
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
        throw boost::system::system_error(EAFNOSUPPORT, boost::system::system_category(), "inherited listener");
    acceptor_.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listening_fd);
}

asio::awaitable<void> listener::run(on_accept handler)
{
    constexpr auto tok = asio::as_tuple(asio::use_awaitable);
    asio::steady_timer backoff(co_await asio::this_coro::executor);
    bool warned = false;
    while (acceptor_.is_open()) {
        auto [ec, sock] = co_await acceptor_.async_accept(tok);
        if (!ec) {
            warned = false;
            handler(std::move(sock));
            continue;
        }
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
        // Out of descriptors (or another transient accept error): the listening
        // socket stays readable, so retrying at once would spin. Wait instead;
        // existing sessions keep running and free descriptors as they end.
        if (!warned)
            log::warn("accept on {} failed: {}; backing off", acceptor_.local_endpoint().port(), ec.message());
        warned = true;
        backoff.expires_after(std::chrono::milliseconds(100));
        co_await backoff.async_wait(tok);
    }
}

void listener::close()
{
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

}  // namespace postrider::net
