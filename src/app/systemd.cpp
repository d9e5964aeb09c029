#include "app/systemd.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace postrider::app::systemd {
namespace {

void send(const std::string& state)
{
    // unset_environment = 0: later messages (RELOADING, STOPPING) use the same socket.
    sd_notify(0, state.c_str());
}

// one_line - STATUS= must stay one line.
std::string one_line(std::string_view text)
{
    std::string out(text);
    for (auto& c : out)
        if (c == '\n' || c == '\r') c = ' ';
    return out;
}

}  // namespace

void ready(std::string_view status)
{
    send("READY=1\nSTATUS=" + one_line(status));
}

void reloading()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const long long usec = static_cast<long long>(ts.tv_sec) * 1000000LL + ts.tv_nsec / 1000;
    send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading configuration", usec));
}

void stopping(std::string_view status)
{
    send("STOPPING=1\nSTATUS=" + one_line(status));
}

void status(std::string_view text)
{
    send("STATUS=" + one_line(text));
}

std::vector<int> listen_fds()
{
    const int n = sd_listen_fds(1);
    if (n < 0) throw std::runtime_error(fmt::format("socket activation: sd_listen_fds failed: errno {}", -n));
    std::vector<int> out;
    for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
            throw std::runtime_error(fmt::format("socket activation: descriptor {} is not a listening stream socket", fd));
        out.push_back(fd);
    }
    return out;
}

}  // namespace postrider::app::systemd
