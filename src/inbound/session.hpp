// inbound/session.hpp: one SMTP server session as one coroutine.
//
// Owns: moving bytes between a socket and smtp::server_engine, deadlines
//       (per command and per session), and the hand-off to the queue.
// Trust: the socket is UNTRUSTED, but this file makes no protocol decisions:
//        every byte goes to the pure engine, every reply comes from it.
// THE PROMISE: the 250 after DATA is written only after queue::submitter::submit()
//        returned ok, i.e. after the message is durable.
// Executor: runs on the io_context thread; shares nothing mutable with other sessions.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "inbound/auth_limiter.hpp"
#include "inbound/auth_table.hpp"
#include "queue/submission.hpp"
#include "smtp/server_engine.hpp"

namespace postrider::inbound {

struct session_config {
    smtp::server_settings smtp;  // smtp.starttls is set per session from the listener and the context
    std::chrono::seconds command_timeout{300};
    std::chrono::seconds session_budget{1800};
    std::chrono::seconds tls_handshake_timeout{60};
    std::chrono::seconds auth_failure_delay{1};  // a wrong password is answered this much later
    bool hide_client_hosts = false;  // Received of authenticated mail: no client HELO or address
};

// What a listener serves: plain SMTP with optional STARTTLS (25), or TLS from
// the first byte (RFC 8314 implicit TLS, 465).
// Submission (RFC 6409, 587): STARTTLS offered, MAIL only after AUTH.
enum class listener_kind { smtp, smtps, submission };

// SMTP AUTH as the server set it up; users null: AUTH is not offered.
struct auth_deps {
    // Shared, so a SIGHUP can swap the server's table while sessions finish with theirs.
    std::shared_ptr<const auth_table> users;
    auth_limiter* limiter = nullptr;          // shared by all sessions: failures per client address
    boost::asio::any_io_executor crypt_pool{};  // crypt_r() runs here, off the event loop
};

// What the owner (server) knows of a live session: lets it stop sessions at shutdown.
struct session_control {
    bool stopping = false;
    boost::asio::ip::tcp::socket* socket = nullptr;  // valid while the session runs
};

struct session_deps {
    const session_config& config;
    const smtp::recipient_policy& policy;
    queue::submitter& queue;
    listener_kind kind = listener_kind::smtp;
    std::shared_ptr<boost::asio::ssl::context> tls{};  // null: no certificate, no STARTTLS
    auth_deps auth{};
    bool relay_permitted = false;  // the client address is in mynetworks
};

// run_session - serve one connection until QUIT, timeout, error or shutdown.
//               `refusal` non-empty: greet with 421 <refusal> and close at once.
//               deps and control must outlive the coroutine (the server owns them).
boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket, session_deps deps,
                                         session_control& control, std::string session_id,
                                         std::string refusal);

}  // namespace postrider::inbound
