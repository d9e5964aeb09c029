#include "app/systemd.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <fmt/format.h>

#include <cstdlib>
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

std::vector<passed_listener> listen_fds()
{
    char** names = nullptr;
    const int n = sd_listen_fds_with_names(1, &names);
    if (n < 0) throw std::runtime_error(fmt::format("socket activation: sd_listen_fds failed: errno {}", -n));
    std::vector<passed_listener> out;
    for (int i = 0; i < n; ++i) {
        out.push_back({SD_LISTEN_FDS_START + i, names && names[i] ? names[i] : ""});
        if (names) std::free(names[i]);
    }
    std::free(names);
    for (const auto& l : out)
        if (sd_is_socket(l.fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
            throw std::runtime_error(fmt::format("socket activation: descriptor {} is not a listening stream socket", l.fd));
    return out;
}

}  // namespace postrider::app::systemd
