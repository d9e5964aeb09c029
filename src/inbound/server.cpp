#include "inbound/server.hpp"

#include <boost/asio/co_spawn.hpp>

#include <ctime>
#include <exception>

#include "log/log.hpp"

namespace postrider::inbound {

namespace asio = boost::asio;
using asio::ip::tcp;

server::server(asio::any_io_executor ex, session_config config, server_limits limits,
               const smtp::recipient_policy& policy, queue::submitter& queue)
    : ex_(std::move(ex)), config_(std::move(config)), limits_(limits), policy_(policy), queue_(queue)
{
}

void server::listen(const tcp::endpoint& where, listener_kind kind)
{
    listeners_.push_back(std::make_unique<net::listener>(ex_, where));
    kinds_.push_back(kind);
}

void server::adopt(int listening_fd, listener_kind kind)
{
    listeners_.push_back(std::make_unique<net::listener>(ex_, listening_fd));
    kinds_.push_back(kind);
}

std::vector<tcp::endpoint> server::endpoints() const
{
    std::vector<tcp::endpoint> out;
    for (const auto& l : listeners_) out.push_back(l->local_endpoint());
    return out;
}

void server::start()
{
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
        auto& l = listeners_[i];
        const auto kind = kinds_[i];
        auto where = l->local_endpoint();
        log::info("listening on {}:{}{}", where.address().to_string(), where.port(),
                  kind == listener_kind::smtps ? " (implicit TLS)" : kind == listener_kind::submission ? " (submission)" : "");
        asio::co_spawn(ex_, l->run([this, kind](tcp::socket s) { accept(std::move(s), kind); }),
                       [](std::exception_ptr e) {
                           if (e) std::rethrow_exception(e);  // a bug: let run() report it
                       });
    }
}

void server::stop()
{
    stopping_ = true;
    for (auto& l : listeners_) l->close();
    // Cancelling pending reads wakes each session, which sees `stopping`,
    // answers 421 4.3.2 and ends; a session awaiting a commit finishes it first.
    for (auto& s : sessions_) {
        s.stopping = true;
        if (s.socket) {
            boost::system::error_code ignored;
            s.socket->cancel(ignored);
        }
    }
}

std::string server::refusal_for(const std::string& ip) const
{
    // RFC 5321 3.8 / 4.3.2: 421 at greeting time means "try again later".
    if (stopping_) return "4.3.2 Service shutting down";
    if (sessions_.size() >= limits_.max_sessions) return "4.7.0 Too many connections, try again later";
    auto it = per_ip_.find(ip);
    if (it != per_ip_.end() && it->second >= limits_.max_sessions_per_ip)
        return "4.7.0 Too many connections from your address, try again later";
    return {};
}

std::string server::next_session_id()
{
    // Session ids are for log correlation only; time-prefixed so they stay distinct across restarts.
    return fmt::format("S{:X}{:06X}", static_cast<std::uint32_t>(std::time(nullptr)) & 0xFFFFF,
                       ++session_counter_ & 0xFFFFFF);
}

void server::accept(tcp::socket socket, listener_kind kind)
{
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    std::string ip = ec ? std::string("unknown") : remote.address().to_string();
    std::string refusal = refusal_for(ip);

    auto entry = sessions_.emplace(sessions_.end());
    entry->stopping = stopping_;
    ++per_ip_[ip];
    session_deps deps{config_, policy_, queue_, kind, tls_};
    if (users_) deps.auth = auth_deps{users_, &*limiter_, crypt_pool_};
    deps.relay_permitted = mynetworks_.contains(ip);
    auto id = next_session_id();
    asio::co_spawn(ex_, run_session(std::move(socket), deps, *entry, id, std::move(refusal)),
                   [this, entry, ip, id](std::exception_ptr e) {
                       if (e) {
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& ex) {
                               log::error("{}: session aborted by exception: {}", id, ex.what());
                           }
                       }
                       sessions_.erase(entry);
                       if (--per_ip_[ip] == 0) per_ip_.erase(ip);
                   });
}

}  // namespace postrider::inbound
