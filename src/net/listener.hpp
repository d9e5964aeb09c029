// net/listener.hpp: a bound TCP acceptor and its accept loop.
//
// Owns: binding, accepting, and backing off when the process runs out of
//       descriptors (EMFILE/ENFILE) instead of spinning on a ready socket.
// Trust: knows nothing of SMTP; hands every accepted socket to its owner.
// Executor: run() and close() on the io_context's (single) thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>

namespace postrider::net {

class listener {
public:
    using on_accept = std::function<void(boost::asio::ip::tcp::socket)>;

    // listener - bind and listen; throws boost::system::system_error (start-up error).
    listener(boost::asio::any_io_executor ex, const boost::asio::ip::tcp::endpoint& where);
    // listener - adopt an already listening socket (systemd socket activation); takes ownership.
    listener(boost::asio::any_io_executor ex, int listening_fd);

    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    // run - accept until close(); each socket goes to handler, which must not block.
    boost::asio::awaitable<void> run(on_accept handler);
    // close - stop accepting; run() returns.
    void close();

private:
    boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace postrider::net
