// control/client.cpp: blocking control-socket client (see client.hpp).
#include "control/client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postrider::control {

std::filesystem::path socket_path(const std::filesystem::path& queue_dir) { return queue_dir / "control.sock"; }

call_result call(const std::filesystem::path& queue_dir, const request& r, int timeout_s)
{
    call_result out;
    const auto path = socket_path(queue_dir).string();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        out.text = "control socket path too long: " + path;
        return out;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        out.text = std::strerror(errno);
        return out;
    }
    timeval tv{timeout_s, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        const int e = errno;
        ::close(fd);
        out.daemon_running = !(e == ENOENT || e == ECONNREFUSED);
        out.text = std::string("connect ") + path + ": " + std::strerror(e);
        return out;
    }
    out.daemon_running = true;
    const std::string line = format_request(r);
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        out.text = std::string("send: ") + std::strerror(errno);
        ::close(fd);
        return out;
    }
    std::string reply;
    char buf[512];
    while (reply.find('\n') == std::string::npos && reply.size() < 4096) {
        auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (auto nl = reply.find('\n'); nl != std::string::npos) reply.resize(nl);
    else {
        out.text = "no reply from the daemon (timed out or closed)";
        return out;
    }
    out.ok = reply == "ok" || reply.rfind("ok ", 0) == 0;
    out.text = reply.size() > 3 ? reply.substr(out.ok ? 3 : (reply.rfind("error ", 0) == 0 ? 6 : 0)) : std::string{};
    return out;
}

}  // namespace postrider::control
