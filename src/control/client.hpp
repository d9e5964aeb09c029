// control/client.hpp: the tools' side of the control socket (blocking, short-lived).
//
// Trust: talks only to <queue_dir>/control.sock, which only the queue's owner
//        can create; the reply is one bounded line.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "control/protocol.hpp"

namespace postrider::control {

// socket_path - <queue_dir>/control.sock.
std::filesystem::path socket_path(const std::filesystem::path& queue_dir);

struct call_result {
    bool daemon_running = false;  // false: no socket or nobody listening (ENOENT, ECONNREFUSED)
    bool ok = false;              // the daemon answered "ok"
    std::string text;             // reply text, or the local error
};

// call - send one request and wait (at most timeout_s) for the reply.
call_result call(const std::filesystem::path& queue_dir, const request& r, int timeout_s = 30);

}  // namespace postrider::control
