// inbound/server.hpp: the SMTP listeners and the set of live sessions.
//
// Owns: listeners, session accounting (total and per client IP), session ids,
//       and orderly shutdown of sessions.
// Trust: counts connections by peer address before any byte is read; the
//        caps are the first line of defence against connection floods.
// Executor: every member runs on the io_context thread (single-threaded loop).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "inbound/session.hpp"
#include "net/listener.hpp"

namespace postrider::inbound {

struct server_limits {
    std::size_t max_sessions = 1000;
    std::size_t max_sessions_per_ip = 50;
};

class server {
public:
    server(boost::asio::any_io_executor ex, session_config config, server_limits limits,
           const smtp::recipient_policy& policy, queue::submitter& queue);

    // listen - bind one more listener; throws boost::system::system_error (start-up).
    void listen(const boost::asio::ip::tcp::endpoint& where);
    // adopt - serve on an already listening socket (socket activation); takes ownership.
    void adopt(int listening_fd);
    std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;
    // start - begin accepting on every listener.
    void start();
    // stop - stop accepting; live sessions answer 421 at their next read and end.
    void stop();
    std::size_t active_sessions() const noexcept { return sessions_.size(); }
    // sessions_started - sessions accepted since start (metrics).
    std::uint64_t sessions_started() const noexcept { return session_counter_; }
    // stopping - stop() was called.
    bool stopping() const noexcept { return stopping_; }

private:
    void accept(boost::asio::ip::tcp::socket socket);
    std::string refusal_for(const std::string& ip) const;
    std::string next_session_id();

    boost::asio::any_io_executor ex_;
    session_config config_;
    server_limits limits_;
    const smtp::recipient_policy& policy_;
    queue::submitter& queue_;
    std::vector<std::unique_ptr<net::listener>> listeners_;
    std::list<session_control> sessions_;
    std::unordered_map<std::string, std::size_t> per_ip_;
    std::uint64_t session_counter_ = 0;
    bool stopping_ = false;
};

}  // namespace postrider::inbound
