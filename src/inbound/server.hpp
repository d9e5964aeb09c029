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
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "inbound/cidr.hpp"
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
    void listen(const boost::asio::ip::tcp::endpoint& where, listener_kind kind = listener_kind::smtp);
    // set_tls - the certificate for STARTTLS and implicit TLS; new sessions use it
    //           (live ones keep theirs), so a reload never disturbs a handshake.
    void set_tls(std::shared_ptr<boost::asio::ssl::context> tls) { tls_ = std::move(tls); }
    // set_auth - offer SMTP AUTH with these users; crypt_r() runs on pool. Failures per
    //            client address: limit within window, then 421 until they age out.
    void set_auth(std::shared_ptr<const auth_table> users, boost::asio::any_io_executor pool, std::size_t limit,
                  std::chrono::seconds window)
    {
        users_ = std::move(users);
        crypt_pool_ = std::move(pool);
        limiter_.emplace(limit, window);
    }
    // set_auth_users - a new users file (SIGHUP) for new sessions; needs set_auth() first.
    void set_auth_users(std::shared_ptr<const auth_table> users) { users_ = std::move(users); }
    bool auth_enabled() const noexcept { return users_ != nullptr; }
    // set_mynetworks - clients in these networks may relay (Postfix permit_mynetworks).
    void set_mynetworks(network_list networks) { mynetworks_ = std::move(networks); }
    // adopt - serve on an already listening socket (socket activation); takes ownership.
    void adopt(int listening_fd, listener_kind kind = listener_kind::smtp);
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
    void accept(boost::asio::ip::tcp::socket socket, listener_kind kind);
    std::string refusal_for(const std::string& ip) const;
    std::string next_session_id();

    boost::asio::any_io_executor ex_;
    session_config config_;
    server_limits limits_;
    const smtp::recipient_policy& policy_;
    queue::submitter& queue_;
    std::vector<std::unique_ptr<net::listener>> listeners_;
    std::vector<listener_kind> kinds_;  // parallel to listeners_
    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::shared_ptr<const auth_table> users_;
    boost::asio::any_io_executor crypt_pool_;
    std::optional<auth_limiter> limiter_;
    network_list mynetworks_;
    std::list<session_control> sessions_;
    std::unordered_map<std::string, std::size_t> per_ip_;
    std::uint64_t session_counter_ = 0;
    bool stopping_ = false;
};

}  // namespace postrider::inbound
