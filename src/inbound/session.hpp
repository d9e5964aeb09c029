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

#include <chrono>
#include <cstdint>
#include <string>

#include "queue/submission.hpp"
#include "smtp/server_engine.hpp"

namespace postrider::inbound {

struct session_config {
    smtp::server_settings smtp;
    std::chrono::seconds command_timeout{300};
    std::chrono::seconds session_budget{1800};
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
};

// run_session - serve one connection until QUIT, timeout, error or shutdown.
//               `refusal` non-empty: greet with 421 <refusal> and close at once.
//               deps and control must outlive the coroutine (the server owns them).
boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket, session_deps deps,
                                         session_control& control, std::string session_id,
                                         std::string refusal);

}  // namespace postrider::inbound
