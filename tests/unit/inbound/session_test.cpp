// session_test: run_session over a real loopback socket with a fake queue.
// The fake queue holds every commit until the test releases it, which proves
// the reply to DATA is written only after the commit result (the paper path).
#include "support/catch.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "inbound/session.hpp"
#include "inbound/trace_header.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using postrider::inbound::run_session;
using postrider::inbound::session_config;
using postrider::inbound::session_control;
using postrider::inbound::session_deps;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

struct accept_localhost final : postrider::smtp::recipient_policy {
    postrider::smtp::rcpt_verdict check(std::string_view, std::string_view domain) const override
    {
        return domain == "localhost" ? postrider::smtp::rcpt_verdict::accept
                                     : postrider::smtp::rcpt_verdict::relay_denied;
    }
};

// A queue whose commits finish only when the test says so.
struct held_queue final : postrider::queue::submitter {
    explicit held_queue(asio::any_io_executor ex) : release(ex, asio::steady_timer::time_point::max()) {}
    std::string allocate_id() override { return "TESTID" + std::to_string(++ids); }
    asio::awaitable<postrider::queue::commit_result> submit(std::string id, postrider::queue::new_message m) override
    {
        ++submits;
        last = std::move(m);
        co_await release.async_wait(tok);
        committed = true;
        postrider::queue::commit_result r{succeed, id, succeed ? "" : "disk full"};
        r.insufficient_storage = !succeed && out_of_space;
        co_return r;
    }
    asio::steady_timer release;
    int ids = 0;
    int submits = 0;
    bool committed = false;
    bool succeed = true;
    bool out_of_space = false;  // when !succeed: fail as ENOSPC would
    std::optional<postrider::queue::new_message> last;
};

asio::awaitable<std::string> read_reply(tcp::socket& s, std::string& buf)
{
    for (;;) {
        auto eol = buf.find("\r\n");
        if (eol != std::string::npos && (eol < 4 || buf[3] != '-')) {
            std::string line = buf.substr(0, eol);
            buf.erase(0, eol + 2);
            co_return line;
        }
        if (eol != std::string::npos) {
            buf.erase(0, eol + 2);
            continue;
        }
        char chunk[1024];
        auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk), tok);
        if (ec) co_return "EOF";
        buf.append(chunk, n);
    }
}

asio::awaitable<std::string> command(tcp::socket& s, std::string& buf, std::string line)
{
    co_await asio::async_write(s, asio::buffer(line), tok);
    co_return co_await read_reply(s, buf);
}

struct fixture {
    asio::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    session_config config;
    accept_localhost policy;
    held_queue queue{io.get_executor()};
    session_control control;
    bool session_done = false;

    fixture() { config.command_timeout = 5s; }

    // serve_one - accept one connection and run a session on it.
    void serve_one()
    {
        asio::co_spawn(io, [this]() -> asio::awaitable<void> {
            auto [ec, sock] = co_await acceptor.async_accept(tok);
            if (ec) throw boost::system::system_error(ec);
            co_await run_session(std::move(sock), session_deps{config, policy, queue}, control, "S1", "");
            session_done = true;
        }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    }

    template <class F>
    void client(F body)
    {
        asio::co_spawn(io, [this, body]() -> asio::awaitable<void> {
            tcp::socket s(io);
            co_await s.async_connect(acceptor.local_endpoint(), tok);
            std::string buf;
            co_await body(s, buf);
        }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
        io.run_for(10s);
    }
};

// up_to_data - greeting, EHLO, MAIL, RCPT, DATA; the codes in order, for the caller to check.
// (g++ 12 evaluates a co_await inside a Catch2 assertion macro twice: keep them apart.)
asio::awaitable<std::string> up_to_data(tcp::socket& s, std::string& buf)
{
    std::string codes = (co_await read_reply(s, buf)).substr(0, 3);
    for (const char* line : {"EHLO client.test\r\n", "MAIL FROM:<a@example.org>\r\n", "RCPT TO:<bob@localhost>\r\n",
                             "DATA\r\n"}) {
        auto reply = co_await command(s, buf, line);
        codes += " " + reply.substr(0, 3);
    }
    co_return codes;
}

constexpr const char* dialog_to_data = "220 250 250 250 354";

}  // namespace

TEST_CASE("the 250 after DATA is written only after the commit completes", "[session]")
{
    fixture f;
    f.serve_one();
    std::string codes, reply;
    bool committed_before_reply = false;
    f.client([&](tcp::socket& s, std::string& buf) -> asio::awaitable<void> {
        codes = co_await up_to_data(s, buf);
        // Release the commit 300 ms from now; the reply must not come earlier.
        f.queue.release.expires_after(300ms);
        reply = co_await command(s, buf, "Subject: x\r\n\r\nbody\r\n.\r\n");
        committed_before_reply = f.queue.committed;
        co_await command(s, buf, "QUIT\r\n");
    });
    CHECK(codes == dialog_to_data);
    CHECK(reply.substr(0, 3) == "250");
    CHECK(reply.find("TESTID1") != std::string::npos);
    CHECK(committed_before_reply);
    REQUIRE(f.queue.last);
    CHECK(f.queue.last->sender == "a@example.org");
    REQUIRE(f.queue.last->recipients.size() == 1);
    CHECK(f.queue.last->recipients[0].address == "bob@localhost");
    CHECK(f.queue.last->trace.rfind("Received: from client.test ([127.0.0.1])\r\n", 0) == 0);
    CHECK(f.queue.last->content.find("Received:") == std::string::npos);  // the trace is not copied in
    CHECK(f.queue.last->content.find("\r\n\r\nbody\r\n") != std::string::npos);
    CHECK(f.session_done);
}

// failed_commit_dialog - a transaction whose commit the queue refuses; the
// reply to the data, then the reply to a NOOP that follows it.
std::pair<std::string, std::string> failed_commit_dialog(fixture& f)
{
    f.queue.succeed = false;
    f.serve_one();
    std::string codes, reply, after;
    f.client([&](tcp::socket& s, std::string& buf) -> asio::awaitable<void> {
        codes = co_await up_to_data(s, buf);
        f.queue.release.expires_after(1ms);
        reply = co_await command(s, buf, "Subject: x\r\n\r\nbody\r\n.\r\n");
        after = co_await command(s, buf, "NOOP\r\n");
    });
    CHECK(codes == dialog_to_data);
    CHECK(f.queue.submits == 1);
    return {reply, after};
}

TEST_CASE("a failed commit is answered 451 and the session goes on", "[session]")
{
    fixture f;
    auto [reply, after] = failed_commit_dialog(f);
    CHECK(reply.substr(0, 9) == "451 4.3.0");
    CHECK(after.substr(0, 3) == "250");
}

TEST_CASE("a commit that fails for lack of disk space is answered 452 4.3.1", "[session]")
{
    fixture f;
    f.queue.out_of_space = true;
    auto [reply, after] = failed_commit_dialog(f);
    CHECK(reply == "452 4.3.1 Insufficient system storage");
    CHECK(after.substr(0, 3) == "250");
}

TEST_CASE("a disconnect mid-DATA never reaches the queue", "[session]")
{
    fixture f;
    f.serve_one();
    std::string codes;
    f.client([&](tcp::socket& s, std::string& buf) -> asio::awaitable<void> {
        codes = co_await up_to_data(s, buf);
        co_await asio::async_write(s, asio::buffer(std::string("Subject: x\r\n\r\npartial")), tok);
        s.close();
    });
    CHECK(codes == dialog_to_data);
    CHECK(f.session_done);
    CHECK(f.queue.submits == 0);
}

TEST_CASE("an idle client gets 421 4.4.2 at the command timeout", "[session]")
{
    fixture f;
    f.config.command_timeout = 1s;
    f.serve_one();
    std::string greeting, reply;
    f.client([&](tcp::socket& s, std::string& buf) -> asio::awaitable<void> {
        greeting = co_await read_reply(s, buf);
        reply = co_await read_reply(s, buf);
    });
    CHECK(greeting.substr(0, 3) == "220");
    CHECK(reply.substr(0, 9) == "421 4.4.2");
    CHECK(f.session_done);
}

TEST_CASE("a client that keeps talking outlives many command timeouts; silence then ends it", "[session]")
{
    // The session's one deadline timer fires at the first timeout after the session began and
    // must re-arm for the latest command's deadline instead of cutting the client off.
    fixture f;
    f.config.command_timeout = 1s;
    f.serve_one();
    std::string codes, last;
    f.client([&](tcp::socket& s, std::string& buf) -> asio::awaitable<void> {
        codes = (co_await read_reply(s, buf)).substr(0, 3);
        asio::steady_timer pause(s.get_executor());
        for (int i = 0; i < 4; ++i) {  // 4 x 700 ms: almost three timeouts' worth, never 1 s silent
            pause.expires_after(700ms);
            co_await pause.async_wait(tok);
            auto reply = co_await command(s, buf, "NOOP\r\n");
            codes += " " + reply.substr(0, 3);
        }
        last = co_await read_reply(s, buf);  // now silent: the timeout's 421
    });
    CHECK(codes == "220 250 250 250 250");
    CHECK(last.substr(0, 9) == "421 4.4.2");
    CHECK(f.session_done);
}

TEST_CASE("received_header names one recipient only and is RFC 5322 dated", "[trace]")
{
    using postrider::inbound::received_header;
    using postrider::inbound::trace_info;
    trace_info one{"client.test", "127.0.0.1", "mx.test", "ESMTP", "QID", "bob@localhost"};
    CHECK(received_header(one, 0) ==
          "Received: from client.test ([127.0.0.1])\r\n\tby mx.test (postrider) with ESMTP id QID\r\n"
          "\tfor <bob@localhost>; Thu, 01 Jan 1970 00:00:00 +0000\r\n");
    trace_info many{"evil\r\nX-Injected: 1", "::1", "mx.test", "SMTP", "QID", ""};
    auto h = received_header(many, 1764032645);
    CHECK(h.find("for <") == std::string::npos);
    CHECK(h.find("\r\nX-Injected") == std::string::npos);
    CHECK(h.find("Tue, 25 Nov 2025 01:04:05 +0000") != std::string::npos);
}

TEST_CASE("received_header with host hiding names no client HELO, address or TLS line", "[trace]")
{
    using postrider::inbound::received_header;
    using postrider::inbound::trace_info;
    trace_info t{"laptop.internal.example", "10.1.2.3", "mx.test", "ESMTPSA", "QID", "bob@localhost",
                 "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", true};
    CHECK(received_header(t, 0) ==
          "Received: by mx.test (postrider) with ESMTPSA id QID\r\n"
          "\tfor <bob@localhost>; Thu, 01 Jan 1970 00:00:00 +0000\r\n");
    t.single_rcpt = "";
    CHECK(received_header(t, 0) == "Received: by mx.test (postrider) with ESMTPSA id QID; Thu, 01 Jan 1970 00:00:00 +0000\r\n");
}

TEST_CASE("received_header carries the TLS line as Postfix writes it", "[trace][tls]")
{
    using postrider::inbound::received_header;
    using postrider::inbound::trace_info;
    trace_info t{"client.test", "127.0.0.1", "mx.test", "ESMTPS", "QID", "bob@localhost",
                 "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"};
    CHECK(received_header(t, 0) ==
          "Received: from client.test ([127.0.0.1])\r\n"
          "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n"
          "\tby mx.test (postrider) with ESMTPS id QID\r\n"
          "\tfor <bob@localhost>; Thu, 01 Jan 1970 00:00:00 +0000\r\n");
}
