#include "inbound/session.hpp"

#include <array>
#include <ctime>
#include <optional>

#include "core/escape.hpp"
#include "inbound/trace_header.hpp"
#include "log/log.hpp"
#include "net/deadline_io.hpp"

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

struct session_state {
    tcp::socket& socket;
    session_deps deps;
    session_control& control;
    const std::string& id;
    std::string peer_ip;
    net::clock::time_point session_deadline;
    std::string end_reason = "quit";
};

// deadline_for - the earlier of the per-command timeout and the session budget.
net::clock::time_point deadline_for(const session_state& s)
{
    auto d = net::clock::now() + s.deps.config.command_timeout;
    return d < s.session_deadline ? d : s.session_deadline;
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
    auto r = co_await net::write_all_by(s.socket, out, deadline_for(s));
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
    trace_info t{m.helo, s.peer_ip, s.deps.config.smtp.hostname, m.protocol, qid, single};
    // Prepend in the message's own buffer (its capacity is usually larger): a 25 MiB
    // message is not copied, and the session does not keep a second copy during the commit.
    out.content = std::move(m.data);
    out.content.insert(0, received_header(t, std::time(nullptr)));
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
    auto queued = to_new_message(std::move(*message), s, qid);
    const auto size = queued.content.size();
    auto result = co_await s.deps.queue.submit(qid, std::move(queued));
    if (result.ok)
        log::info("{}: client=[{}] session={} size={} nrcpt={}", qid, s.peer_ip, s.id, size, nrcpt);
    else
        log::warn("{}: commit failed session={} reason=\"{}\"", qid, s.id, core::escape(result.reason));
    engine.commit_done({result.ok, result.ok ? result.queue_id : qid, result.reason, result.insufficient_storage});
}

// read_and_feed - wait for the peer, then one read into the engine; false when the session must end.
asio::awaitable<bool> read_and_feed(smtp::server_engine& engine, session_state& s)
{
    auto r = co_await net::wait_readable_by(s.socket, deadline_for(s));
    if (s.control.stopping) {
        s.end_reason = "shutdown";
        engine.shutdown();
        co_return true;
    }
    if (r.timed_out) {
        s.end_reason = "timeout";
        engine.timeout();
        co_return true;
    }
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
    session_state s{socket, deps, control, session_id,
                    ec ? std::string("unknown") : remote.address().to_string(),
                    net::clock::now() + deps.config.session_budget};
    control.socket = &socket;
    socket.non_blocking(true, ec);  // read_some after a readiness wait must never block the loop
    log::info("{}: connect from [{}]:{}", session_id, s.peer_ip, ec ? 0 : remote.port());

    smtp::server_engine engine(deps.config.smtp, deps.policy, s.peer_ip);
    if (refusal.empty()) {
        engine.greet();
    } else {
        s.end_reason = "refused";
        engine.refuse(refusal);
    }
    co_await serve(engine, s);

    control.socket = nullptr;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    log::info("{}: disconnect from [{}] reason={}", session_id, s.peer_ip, s.end_reason);
}

}  // namespace postrider::inbound
