#include "inbound/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <ctime>
#include <optional>
#include <vector>

#include "core/escape.hpp"
#include "inbound/trace_header.hpp"
#include "log/log.hpp"
#include "net/deadline_io.hpp"
#include "net/deadline_watch.hpp"
#include "net/tls_server.hpp"

namespace postrider::inbound {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// One read buffer for the whole event loop, not one per session: a session
// waits for readability holding no buffer, then drains the socket into this
// buffer and feeds the engine, which copies only what it keeps. Idle sessions
// stay a few KiB; a DATA stream moves in 64 KiB reads. thread_local keeps it
// correct if the loop ever runs on several threads.
constexpr std::size_t read_chunk = 64 * 1024;
// shared_read_buffer - the loop's read buffer. (A thread_local at namespace
// scope, touched from a coroutine, made g++ 12 emit a trap here: keep the
// thread_local inside a plain function.)
std::array<char, read_chunk>& shared_read_buffer()
{
    thread_local std::array<char, read_chunk> buffer;
    return buffer;
}

// A TLS read may suspend inside OpenSSL holding the buffer, so TLS sessions
// cannot share the loop's buffer; one TLS record is at most 16 KiB.
constexpr std::size_t tls_read_chunk = 16 * 1024;

using tls_stream = asio::ssl::stream<tcp::socket&>;

struct session_state {
    tcp::socket& socket;
    session_deps deps;
    session_control& control;
    const std::string& id;
    std::string peer_ip;
    net::clock::time_point session_deadline;
    net::deadline_watch& watch;  // bounds every read wait for the peer (see wait_result)
    std::string end_reason = "quit";
    std::optional<tls_stream> tls{};  // set once the handshake has started; all I/O goes through it
    std::vector<char> tls_buffer{};
    std::string tls_info{};         // tls_summary() for the Received header
};

// deadline_for - the earlier of the per-command timeout and the session budget.
net::clock::time_point deadline_for(const session_state& s)
{
    auto d = net::clock::now() + s.deps.config.command_timeout;
    return d < s.session_deadline ? d : s.session_deadline;
}

// wait_result - what a wait bounded by s.watch came to: a failure after the deadline passed
//               is the deadline's (the watch cancelled the socket); a success stands. Disarms
//               the watch: a handshake or write that follows has its own deadline.
net::io_result wait_result(const session_state& s, boost::system::error_code ec, std::size_t n = 0)
{
    s.watch.disarm();
    return {ec, n, ec && s.watch.expired()};
}

// log_events - one log line per protocol event the engine reported (already escaped).
void log_events(smtp::server_engine& engine, const session_state& s)
{
    for (const auto& event : engine.take_events()) log::info("{}: {} client=[{}]", s.id, event, s.peer_ip);
}

// flush - write pending replies; false when the peer cannot be written to.
asio::awaitable<bool> flush(smtp::server_engine& engine, session_state& s)
{
    log_events(engine, s);
    std::string out = engine.take_output();
    if (out.empty()) co_return true;
    net::io_result r;
    if (s.tls) {
        r = co_await net::write_all_by(*s.tls, out, deadline_for(s));
    } else {
        // Replies are small and the socket buffer is almost always free: one non-blocking send
        // writes them without arming a timer. Only what does not fit waits, under the deadline.
        std::string_view rest = out;
        const std::size_t n = s.socket.write_some(asio::buffer(rest), r.ec);
        if (r.ec == asio::error::would_block || r.ec == asio::error::try_again) r.ec = {};
        if (!r.ec) rest.remove_prefix(n);
        if (!r.ec && !rest.empty()) r = co_await net::write_all_by(s.socket, rest, deadline_for(s));
    }
    if (r.timed_out || r.ec) {
        s.end_reason = r.timed_out ? "write-timeout" : "write-error";
        co_return false;
    }
    co_return true;
}

// to_new_message - the queue's view of an accepted transaction, trace header first.
queue::new_message to_new_message(smtp::accepted_message&& m, const session_state& s, const std::string& qid)
{
    queue::new_message out;
    const std::string single = m.recipients.size() == 1 ? m.recipients.front().address : std::string{};
    trace_info t{m.helo, s.peer_ip, s.deps.config.smtp.hostname, m.protocol, qid, single, s.tls_info,
                 s.deps.config.hide_client_hosts && !m.auth_user.empty()};
    out.trace = received_header(t, std::time(nullptr));
    out.content = std::move(m.data);  // not copied: the store writes trace and content as two parts
    out.sender = std::move(m.sender);
    for (auto& r : m.recipients) out.recipients.push_back({std::move(r.address), std::move(r.orcpt), r.notify});
    out.client = s.peer_ip;
    out.helo = core::escape(m.helo);
    out.protocol = std::move(m.protocol);
    out.body_8bit = m.body_8bit;
    out.smtputf8 = m.smtputf8;
    out.envid = std::move(m.envid);
    out.ret_full = m.ret_full;
    out.verp_delimiters = std::move(m.verp_delimiters);
    return out;
}

// commit - hand the completed message to the queue and tell the engine the outcome.
asio::awaitable<void> commit(smtp::server_engine& engine, session_state& s)
{
    auto message = engine.take_message();
    if (!message) co_return;  // engine invariant: awaiting_commit implies a message
    const std::string qid = s.deps.queue.allocate_id();
    const auto nrcpt = message->recipients.size();
    const std::string auth_user = message->auth_user;
    auto queued = to_new_message(std::move(*message), s, qid);
    const auto size = queued.trace.size() + queued.content.size();
    auto result = co_await s.deps.queue.submit(qid, std::move(queued));
    if (result.ok && !auth_user.empty())
        log::info("{}: client=[{}] session={} size={} nrcpt={} sasl_username=\"{}\"", qid, s.peer_ip, s.id, size, nrcpt,
                  core::escape(auth_user, 64));
    else if (result.ok)
        log::info("{}: client=[{}] session={} size={} nrcpt={}", qid, s.peer_ip, s.id, size, nrcpt);
    else
        log::warn("{}: commit failed session={} reason=\"{}\"", qid, s.id, core::escape(result.reason));
    engine.commit_done({result.ok, result.ok ? result.queue_id : qid, result.reason, result.insufficient_storage});
}

// stopped_or_timed_out - a wait ended by shutdown or by the deadline: tell the engine (421).
bool stopped_or_timed_out(smtp::server_engine& engine, session_state& s, const net::io_result& r)
{
    if (s.control.stopping) {
        s.end_reason = "shutdown";
        engine.shutdown();
        return true;
    }
    if (r.timed_out) {
        s.end_reason = "timeout";
        engine.timeout();
        return true;
    }
    return false;
}

// read_tls_and_feed - read_and_feed over TLS: OpenSSL may hold decrypted bytes
//                     the socket no longer shows as readable, so read through the stream.
asio::awaitable<bool> read_tls_and_feed(smtp::server_engine& engine, session_state& s)
{
    s.watch.expire_at(deadline_for(s));
    auto got = co_await s.tls->async_read_some(asio::buffer(s.tls_buffer), asio::as_tuple(asio::use_awaitable));
    const net::io_result r = wait_result(s, std::get<0>(got), std::get<1>(got));
    if (stopped_or_timed_out(engine, s, r)) co_return true;
    if (r.ec) {
        // A peer that closes TCP without close_notify (common after QUIT) is "stream truncated".
        const bool closed = r.ec == asio::error::eof || r.ec == asio::ssl::error::stream_truncated;
        s.end_reason = closed ? "peer-closed" : "read-error";
        engine.peer_closed();
        co_return false;
    }
    engine.feed(std::string_view(s.tls_buffer.data(), r.bytes));
    co_return true;
}

// handshake - TLS server handshake on the session's socket, bounded by tls_handshake_timeout.
//             false (session over, engine closed) on garbage, a timeout or a closed peer.
asio::awaitable<bool> handshake(smtp::server_engine& engine, session_state& s)
{
    if (engine.buffered() != 0) {  // the engine guarantees 0; never encrypt after plaintext leftovers
        log::error("{}: STARTTLS with {} unprocessed octets: closing", s.id, engine.buffered());
        s.end_reason = "tls-buffered-input";
        engine.peer_closed();
        co_return false;
    }
    s.tls.emplace(s.socket, *s.deps.tls);
    s.tls_buffer.resize(tls_read_chunk);
    auto deadline = net::clock::now() + s.deps.config.tls_handshake_timeout;
    if (s.session_deadline < deadline) deadline = s.session_deadline;
    auto r = co_await net::handshake_by(*s.tls, deadline);
    if (r.timed_out || r.ec) {
        s.end_reason = r.timed_out ? "tls-timeout" : "tls-failed";
        log::warn("{}: TLS handshake failed client=[{}] reason=\"{}\"", s.id, s.peer_ip,
                  r.timed_out ? std::string("timeout") : core::escape(r.ec.message(), 200));
        engine.peer_closed();
        co_return false;
    }
    s.tls_info = net::tls_summary(s.tls->native_handle());
    log::info("{}: TLS connection established from [{}]: {}", s.id, s.peer_ip, s.tls_info);
    engine.tls_started();
    co_return true;
}

using sender_list = std::optional<std::vector<std::string>>;

// outcome - built outside the coroutine: g++ 12 destroys brace-init temporaries
//           in a coroutine twice (a double free with the vector inside).
smtp::auth_outcome outcome(smtp::auth_outcome::result what, std::vector<std::string> senders = {})
{
    smtp::auth_outcome o;
    o.what = what;
    o.senders = std::move(senders);
    return o;
}

// check_password - the users table's verdict, computed on the crypt pool: one
//                  crypt_r() costs tens of milliseconds and must not stall the loop.
//                  The result is posted back to the session's executor (the loop).
template <class Token>
auto async_check_password(const auth_table& users, asio::any_io_executor pool, smtp::sasl_credentials creds,
                          Token&& token)
{
    return asio::async_initiate<Token, void(sender_list)>(
        [&users, pool](auto handler, smtp::sasl_credentials c) {
            auto work = asio::make_work_guard(handler);  // the loop's executor, where the session resumes
            asio::post(pool, [&users, c = std::move(c), handler = std::move(handler), work = std::move(work)]() mutable {
                auto verdict = users.check(c.authcid, c.password);
                auto loop = work.get_executor();
                asio::post(loop, [handler = std::move(handler), verdict = std::move(verdict)]() mutable {
                    std::move(handler)(std::move(verdict));
                });
            });
        },
        token, std::move(creds));
}

// authenticate - check the credentials of a finished AUTH exchange, rate-limited per client address.
asio::awaitable<void> authenticate(smtp::server_engine& engine, session_state& s)
{
    auto request = engine.take_auth();
    if (!request) co_return;  // engine invariant: awaiting_auth implies a request
    const char* method = request->mechanism == smtp::sasl_mechanism::plain ? "PLAIN" : "LOGIN";
    const std::string user = core::escape(request->credentials.authcid, 64);
    auto& limiter = *s.deps.auth.limiter;
    if (limiter.blocked(s.peer_ip, net::clock::now())) {
        log::warn("{}: SASL {} authentication refused client=[{}] user=\"{}\" reason=too_many_failures", s.id, method,
                  s.peer_ip, user);
        s.end_reason = "auth-failures";
        const auto refused = outcome(smtp::auth_outcome::result::too_many_failures);
        engine.auth_done(refused);
        co_return;
    }
    sender_list senders;
    // No proxy authorisation: an authzid must name the login itself (RFC 4616 2).
    const auto& c = request->credentials;
    if (c.authzid.empty() || c.authzid == c.authcid)
        senders = co_await async_check_password(*s.deps.auth.users, s.deps.auth.crypt_pool,
                                                std::move(request->credentials), asio::use_awaitable);
    if (senders) {
        limiter.succeeded(s.peer_ip);
        log::info("{}: client=[{}] sasl_method={} sasl_username=\"{}\"", s.id, s.peer_ip, method, user);
        const auto accepted = outcome(smtp::auth_outcome::result::ok, std::move(*senders));
        engine.auth_done(accepted);
        co_return;
    }
    limiter.failed(s.peer_ip, net::clock::now());
    log::warn("{}: SASL {} authentication failed client=[{}] user=\"{}\"", s.id, method, s.peer_ip, user);
    // A pause per failure slows guessing within one connection (Postfix smtpd_error_sleep_time).
    asio::steady_timer pause(s.socket.get_executor(), s.deps.config.auth_failure_delay);
    boost::system::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const auto invalid = outcome(smtp::auth_outcome::result::invalid);
    engine.auth_done(invalid);
}

// read_and_feed - wait for the peer, then one read into the engine; false when the session must end.
asio::awaitable<bool> read_and_feed(smtp::server_engine& engine, session_state& s)
{
    if (s.tls) {
        bool fed = co_await read_tls_and_feed(engine, s);
        co_return fed;
    }
    s.watch.expire_at(deadline_for(s));
    auto waited = co_await s.socket.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
    net::io_result r = wait_result(s, std::get<0>(waited));
    if (stopped_or_timed_out(engine, s, r)) co_return true;
    auto& buffer = shared_read_buffer();
    std::size_t n = 0;
    if (!r.ec) n = s.socket.read_some(asio::buffer(buffer), r.ec);  // non-blocking socket
    if (r.ec == asio::error::would_block || r.ec == asio::error::try_again) co_return true;  // spurious wake
    if (r.ec) {
        s.end_reason = r.ec == asio::error::eof ? "peer-closed" : "read-error";
        engine.peer_closed();
        co_return false;
    }
    engine.feed(std::string_view(buffer.data(), n));
    co_return true;
}

// serve - the session loop: read, feed, commit when a message is complete, reply.
// XXX: g++ 12 miscompiled this loop written as `if (!co_await f()) co_return;`
//      once the frame had no other locals (SIGILL on resume, also at -O0):
//      keep the outcome in `open` instead.
asio::awaitable<void> serve(smtp::server_engine& engine, session_state& s)
{
    bool open = co_await flush(engine, s);
    while (open && !engine.closed()) {
        if (engine.phase() == smtp::input_phase::awaiting_commit) {
            co_await commit(engine, s);
        } else if (engine.phase() == smtp::input_phase::starttls) {
            open = co_await handshake(engine, s);
        } else if (engine.phase() == smtp::input_phase::awaiting_auth) {
            co_await authenticate(engine, s);
        } else if (s.control.stopping) {
            s.end_reason = "shutdown";
            engine.shutdown();
        } else {
            open = co_await read_and_feed(engine, s);
        }
        if (open) open = co_await flush(engine, s);
    }
}

}  // namespace

asio::awaitable<void> run_session(tcp::socket socket, session_deps deps, session_control& control,
                                  std::string session_id, std::string refusal)
{
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    // Declared before s and after socket: gone before the socket is, so it never cancels a closed one.
    net::deadline_watch watch(socket.get_executor(), [&socket] {
        boost::system::error_code ignored;
        socket.cancel(ignored);
    });
    session_state s{socket, deps, control, session_id,
                    ec ? std::string("unknown") : remote.address().to_string(),
                    net::clock::now() + deps.config.session_budget, watch};
    control.socket = &socket;
    socket.non_blocking(true, ec);  // read_some after a readiness wait must never block the loop
    log::info("{}: connect from [{}]:{}", session_id, s.peer_ip, ec ? 0 : remote.port());

    auto settings = deps.config.smtp;
    settings.starttls = deps.tls && deps.kind != listener_kind::smtps;
    settings.auth = deps.auth.users != nullptr;
    settings.auth_required = deps.kind == listener_kind::submission;
    settings.relay_permitted = deps.relay_permitted;
    smtp::server_engine engine(settings, deps.policy, s.peer_ip);
    // RFC 8314 3.3: on an implicit TLS port even the greeting is encrypted.
    bool ready = true;
    if (deps.kind == listener_kind::smtps) ready = co_await handshake(engine, s);
    if (ready) {
        if (refusal.empty()) {
            engine.greet();
        } else {
            s.end_reason = "refused";
            engine.refuse(refusal);
        }
        co_await serve(engine, s);
    }

    control.socket = nullptr;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    log::info("{}: disconnect from [{}] reason={}", session_id, s.peer_ip, s.end_reason);
}

}  // namespace postrider::inbound
