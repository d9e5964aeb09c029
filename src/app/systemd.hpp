// app/systemd.hpp: the service manager's side channels: sd_notify and socket activation.
//
// Owns: READY=1 / RELOADING=1 / STOPPING=1 / STATUS= messages (no-ops without
//       $NOTIFY_SOCKET) and the listening sockets systemd passes in ($LISTEN_FDS).
// Trust: the environment is the admin's (systemd's); descriptors are checked to be
//        listening stream sockets before use.
// See also: packaging/postrider.service, packaging/postrider.socket, docs/admin-guide.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postrider::app::systemd {

// ready - start-up is complete: every listener is bound and accepting.
void ready(std::string_view status);
// reloading - a reload begins (with MONOTONIC_USEC, as Type=notify-reload expects); call ready() after.
void reloading();
// stopping - shutdown begins.
void stopping(std::string_view status);
// status - a free-form one-line status for `systemctl status`.
void status(std::string_view text);

// passed_listener - one socket from socket activation and its FileDescriptorName= (the unit's
//                   name when none is set): "smtps" and "submission" pick those listener kinds.
struct passed_listener {
    int fd;
    std::string name;
};

// listen_fds - listening stream sockets passed by socket activation, in order; empty when not
//              socket-activated. Unsets $LISTEN_* so children do not inherit them.
//              Throws std::runtime_error when a passed descriptor is not a listening stream socket.
std::vector<passed_listener> listen_fds();

}  // namespace postrider::app::systemd
