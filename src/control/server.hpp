// control/server.hpp: the daemon's local control socket (<queue_dir>/control.sock).
//
// Owns: accepting local connections, one request per connection, and running
//       it against the queue manager (flush, delete) so the queue is changed
//       by its one writer only.
// Trust: the socket is created mode 0600 inside queue_dir (0700); each peer's
//        uid is checked with SO_PEERCRED (root or our own uid only). Requests
//        are parsed by protocol.hpp (bounded, allow-listed); a slow peer is
//        cut after 5 s.
// Threads: runs on the executor given (the daemon's io_context thread).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <filesystem>

#include "queue/manager.hpp"

namespace postrider::control {

class server {
public:
    server(boost::asio::any_io_executor ex, std::filesystem::path queue_dir, queue::manager& queue);
    // start - remove a stale socket, bind, chmod 0600, listen, accept in a coroutine. Throws on failure.
    void start();
    // stop - close the acceptor and unlink the socket.
    void stop();

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve_one(boost::asio::local::stream_protocol::socket sock);

    boost::asio::any_io_executor ex_;
    std::filesystem::path path_;
    queue::manager& queue_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
};

}  // namespace postrider::control
