// control/server.cpp: control socket server (see server.hpp).
#include "control/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <array>
#include <stdexcept>

#include "control/client.hpp"
#include "control/protocol.hpp"
#include "core/escape.hpp"
#include "log/log.hpp"
#include "net/deadline_io.hpp"

namespace postrider::control {

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace {

// log_failure - completion handler for our coroutines: log, never drop, an exception.
void log_failure(std::exception_ptr e)
{
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        log::error("control: task failed: {}", core::escape(x.what()));
    }
}

// peer_allowed - root or the daemon's own uid (SO_PEERCRED; the kernel fills it in).
bool peer_allowed(stream_protocol::socket& s, unsigned& uid)
{
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    uid = cred.uid;
    return cred.uid == 0 || cred.uid == ::geteuid();
}

// run_request - one parsed request against the manager; the reply line.
asio::awaitable<std::string> run_request(queue::manager& q, const request& r)
{
    switch (r.what) {
    case verb::ping: co_return reply_ok("pong");
    case verb::flush: {
        auto n = co_await q.flush_all();
        co_return reply_ok(std::to_string(n) + " recipients scheduled now");
    }
    case verb::remove: {
        auto why = co_await q.remove(r.id);
        co_return why.empty() ? reply_ok("deleted") : reply_error(why);
    }
    case verb::requeue: {
        auto res = co_await q.requeue(r.id);
        co_return res.error.empty() ? reply_ok(std::to_string(res.recipients) + " recipients requeued")
                                    : reply_error(res.error);
    }
    }
    co_return reply_error("unknown request");
}

}  // namespace

server::server(asio::any_io_executor ex, std::filesystem::path queue_dir, queue::manager& queue)
    : ex_(ex), path_(socket_path(queue_dir)), queue_(queue), acceptor_(ex)
{
}

void server::start()
{
    struct stat st{};
    // Only a stale socket is removed: never a file someone put at that name.
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path_.c_str());
    stream_protocol::endpoint ep(path_.string());
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    if (::chmod(path_.c_str(), 0600) != 0) throw std::runtime_error("chmod " + path_.string());
    acceptor_.listen(16);
    asio::co_spawn(ex_, accept_loop(), log_failure);
    log::info("control: listening on {}", core::escape(path_.string()));
}

void server::stop()
{
    asio::post(ex_, [this] {
        boost::system::error_code ec;
        acceptor_.close(ec);
        ::unlink(path_.c_str());
    });
}

asio::awaitable<void> server::accept_loop()
{
    constexpr auto tok = asio::as_tuple(asio::use_awaitable);
    while (acceptor_.is_open()) {
        auto [ec, sock] = co_await acceptor_.async_accept(tok);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
            log::warn("control: accept failed: {}", ec.message());
            continue;
        }
        asio::co_spawn(ex_, serve_one(std::move(sock)), log_failure);
    }
}

asio::awaitable<void> server::serve_one(stream_protocol::socket sock)
{
    unsigned uid = 0;
    std::string reply;
    if (!peer_allowed(sock, uid)) {
        log::warn("control: refused a request from uid {}", uid);
        reply = reply_error("permission denied");
    } else {
        std::array<char, max_request_octets + 2> buf;
        std::string line;
        const auto deadline = net::clock::now() + std::chrono::seconds(5);
        while (line.find('\n') == std::string::npos && line.size() <= max_request_octets) {
            auto r = co_await net::read_some_by(sock, asio::buffer(buf), deadline);
            if (r.ec || r.timed_out) co_return;
            line.append(buf.data(), r.bytes);
        }
        auto nl = line.find('\n');
        auto req = nl == std::string::npos ? std::nullopt : parse_request(std::string_view(line).substr(0, nl));
        if (!req) reply = reply_error("bad request");
        else {
            reply = co_await run_request(queue_, *req);
            log::info("control: uid={} request=\"{}\" reply=\"{}\"", uid, core::escape(line.substr(0, nl)),
                      core::escape(reply.substr(0, reply.size() - 1)));
        }
    }
    co_await net::write_all_by(sock, reply, net::clock::now() + std::chrono::seconds(5));
}

}  // namespace postrider::control
