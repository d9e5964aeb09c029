// tests/unit/outbound/client_test.cpp: smtp_client against a scripted in-process server.
//
// Each case runs one io_context: an acceptor on 127.0.0.1:0 whose coroutine plays the
// server from a script, and the client coroutine; io.run_for() bounds the whole case
// and the checks run after it, outside the coroutines (TOOLCHAIN.md section 3).
#include "support/catch.hpp"

#include "outbound/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace postrider::outbound;
using namespace std::chrono_literals;

namespace {

// The server side of one connection: line reads (transcript kept), raw writes.
class peer {
public:
    explicit peer(tcp::socket s) : sock_(std::move(s)) {}

    // line - the next CRLF line without its CRLF; "" at EOF or error (eof() then says so).
    asio::awaitable<std::string> line()
    {
        auto [ec, n] = co_await asio::async_read_until(sock_, asio::dynamic_buffer(buf_, 1 << 20), "\r\n",
                                                       asio::as_tuple(asio::use_awaitable));
        if (ec) {
            eof_ = true;
            co_return std::string();
        }
        std::string l = buf_.substr(0, n - 2);
        buf_.erase(0, n);
        lines.push_back(l);
        co_return l;
    }
    // data - the raw DATA bytes up to and including the terminating ".\r\n".
    asio::awaitable<std::string> data()
    {
        auto [ec, n] = co_await asio::async_read_until(sock_, asio::dynamic_buffer(buf_, 1 << 20), "\r\n.\r\n",
                                                       asio::as_tuple(asio::use_awaitable));
        if (ec) co_return std::string();
        std::string d = buf_.substr(0, n);
        buf_.erase(0, n);
        co_return d;
    }
    // some - at least n bytes of whatever comes (DATA that the server will cut short).
    asio::awaitable<std::string> some(std::size_t n)
    {
        while (buf_.size() < n) {
            char tmp[4096];
            auto [ec, got] = co_await sock_.async_read_some(asio::buffer(tmp), asio::as_tuple(asio::use_awaitable));
            if (ec) break;
            buf_.append(tmp, got);
        }
        co_return buf_;
    }
    // buffered - bytes received but not yet consumed (pipelined commands show up here).
    const std::string& buffered() const { return buf_; }

    asio::awaitable<void> say(std::string text)
    {
        co_await asio::async_write(sock_, asio::buffer(text), asio::as_tuple(asio::use_awaitable));
    }
    asio::awaitable<void> pause(std::chrono::milliseconds d)
    {
        asio::steady_timer t(sock_.get_executor(), d);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    void close()
    {
        boost::system::error_code ignored;
        sock_.shutdown(tcp::socket::shutdown_both, ignored);
        sock_.close(ignored);
    }
    bool eof() const { return eof_; }

    // greet - the greeting, then ehlo_reply to the client's EHLO.
    asio::awaitable<void> greet(std::string ehlo_reply = "250 mx.test\r\n")
    {
        co_await say("220 mx.test ESMTP\r\n");
        co_await line();
        co_await say(std::move(ehlo_reply));
    }
    // accept - 250 to the next n commands (MAIL and RCPTs, one at a time).
    asio::awaitable<void> accept(std::size_t n)
    {
        for (std::size_t i = 0; i < n; ++i) {
            co_await line();
            co_await say("250 ok\r\n");
        }
    }
    // finish - DATA gets 354, the message (stored in *data when given) gets reply, QUIT gets 221.
    asio::awaitable<void> finish(std::string reply, std::string* data = nullptr)
    {
        co_await line();
        co_await say("354 go ahead\r\n");
        auto d = co_await this->data();
        if (data) *data = std::move(d);
        co_await say(std::move(reply));
        co_await line();
        co_await say("221 bye\r\n");
    }

    std::vector<std::string> lines;  // every line the client sent, in order

private:
    tcp::socket sock_;
    std::string buf_;
    bool eof_ = false;
};

using script = std::function<asio::awaitable<void>(peer&)>;

struct outcome {
    bool done = false;
    open_result opened;
    std::optional<transaction_result> sent;
    std::vector<std::string> server_lines;
};

client_settings settings()
{
    client_settings s;
    s.helo_name = "client.test";
    s.connect_timeout = 3s;
    s.command_timeout = 3s;
    s.data_timeout = 3s;
    return s;
}

transaction make_transaction(const std::vector<std::string>& rcpts, const std::string& body)
{
    transaction t;
    t.sender = "sender@client.test";
    for (const auto& r : rcpts) t.recipients.push_back({r, "", 0, {}});
    t.options.size = body.size();
    t.body = &body;
    return t;
}

// run - serve one connection with play while the client opens (TLS level none) and, when the
//       open works and t is given, sends t. Bounded by 10 s of io time.
outcome run(script play, const transaction* t, const client_settings& cs = settings())
{
    asio::io_context io;
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto ep = acc.local_endpoint();
    outcome out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto [ec, s] = co_await acc.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            peer p(std::move(s));
            co_await play(p);
            out.server_lines = p.lines;
            p.close();
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            smtp_client c(io.get_executor(), tls, cs);
            tls_request none;
            none.level = tls_level::none;
            auto r = co_await c.open(ep, "mx.test", none);
            out.opened = r;
            if (r.status == open_status::ok && t) {
                auto res = co_await c.send(*t);
                out.sent = std::move(res);
            }
            co_await c.quit();
            out.done = true;
        },
        asio::detached);
    io.run_for(10s);
    return out;
}

// accept_all - the rest of a plain transaction: 250 to MAIL and every RCPT, 354, the data, 250.
asio::awaitable<void> accept_all(peer& p, std::size_t rcpts, std::string* data)
{
    co_await p.accept(1 + rcpts);
    co_await p.finish("250 2.0.0 queued as X\r\n", data);
}

bool has_line_starting(const std::vector<std::string>& lines, const std::string& prefix)
{
    for (const auto& l : lines)
        if (l.rfind(prefix, 0) == 0) return true;
    return false;
}

}  // namespace

TEST_CASE("client: EHLO refused with 500 or 502 falls back to HELO (no extensions used)")
{
    for (const std::string refusal : {"500 5.5.1 command unrecognized\r\n", "502 5.5.2 not implemented\r\n"}) {
        INFO(refusal);
        const std::string body = dot_stuff("Subject: t\r\n\r\nhello\r\n");
        auto t = make_transaction({"a@mx.test"}, body);
        t.options.body_8bit = true;  // would add BODY=8BITMIME if extensions were (wrongly) kept
        auto o = run(
            [&](peer& p) -> asio::awaitable<void> {
                co_await p.greet(refusal);
                co_await p.line();  // HELO
                co_await p.say("250 mx.test\r\n");
                co_await accept_all(p, 1, nullptr);
            },
            &t);
        REQUIRE(o.done);
        REQUIRE(o.opened.status == open_status::ok);
        REQUIRE(o.sent);
        CHECK(o.sent->recipients[0].kind == rcpt_kind::delivered);
        REQUIRE(o.server_lines.size() >= 3);
        CHECK(o.server_lines[0] == "EHLO client.test");
        CHECK(o.server_lines[1] == "HELO client.test");
        CHECK(o.server_lines[2] == "MAIL FROM:<sender@client.test>");  // no SIZE=, no BODY=
    }
}

TEST_CASE("client: a 4xx to EHLO is not answered with HELO: the open fails")
{
    auto o = run(
        [](peer& p) -> asio::awaitable<void> {
            co_await p.greet("421 4.3.2 going down\r\n");
            co_await p.line();
        },
        nullptr);
    REQUIRE(o.done);
    CHECK(o.opened.status == open_status::failed);
    CHECK(o.opened.reason.find("421") != std::string::npos);
    CHECK_FALSE(has_line_starting(o.server_lines, "HELO"));
}

TEST_CASE("client: with PIPELINING, MAIL, every RCPT and DATA arrive before any reply")
{
    const std::string body = dot_stuff("Subject: t\r\n\r\nhello\r\n");
    auto t = make_transaction({"a@mx.test", "b@mx.test", "c@mx.test"}, body);
    std::vector<std::string> group;
    auto o = run(
        [&](peer& p) -> asio::awaitable<void> {
            co_await p.greet("250-mx.test\r\n250 PIPELINING\r\n");
            // Not a single reply until the whole group is in: a client that waited for the
            // MAIL reply would time out here (command_timeout 3 s) and the case would fail.
            for (int i = 0; i < 5; ++i) {
                auto l = co_await p.line();
                group.push_back(std::move(l));
            }
            co_await p.say("250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n");
            co_await p.data();
            co_await p.say("250 2.0.0 ok\r\n");
            co_await p.line();
            co_await p.say("221 bye\r\n");
        },
        &t);
    REQUIRE(o.done);
    REQUIRE(o.sent);
    REQUIRE(group.size() == 5);
    CHECK(group[0] == "MAIL FROM:<sender@client.test>");
    CHECK(group[1] == "RCPT TO:<a@mx.test>");
    CHECK(group[3] == "RCPT TO:<c@mx.test>");
    CHECK(group[4] == "DATA");
    for (const auto& r : o.sent->recipients) CHECK(r.kind == rcpt_kind::delivered);
}

TEST_CASE("client: a 550 for one recipient fails only that one")
{
    const std::string body = dot_stuff("Subject: t\r\n\r\nhello\r\n");
    auto t = make_transaction({"a@mx.test", "nobody@mx.test", "c@mx.test"}, body);
    std::string data;
    auto o = run(
        [&](peer& p) -> asio::awaitable<void> {
            co_await p.greet();
            co_await p.accept(2);  // MAIL, first RCPT
            co_await p.line();
            co_await p.say("550 5.1.1 <nobody@mx.test>: user unknown\r\n");
            co_await p.accept(1);
            co_await p.finish("250 2.0.0 ok\r\n", &data);
        },
        &t);
    REQUIRE(o.done);
    REQUIRE(o.sent);
    CHECK(o.sent->recipients[0].kind == rcpt_kind::delivered);
    CHECK(o.sent->recipients[1].kind == rcpt_kind::permanent);
    CHECK(o.sent->recipients[1].status == "5.1.1");
    CHECK(o.sent->recipients[1].reason.find("user unknown") != std::string::npos);
    CHECK(o.sent->recipients[2].kind == rcpt_kind::delivered);
    CHECK_FALSE(data.empty());
}

TEST_CASE("client: the reply to the final dot decides every accepted recipient (4xx and 5xx)")
{
    struct row {
        std::string reply;
        rcpt_kind kind;
        std::string status;
    };
    const row rows[] = {{"451 4.3.0 try later\r\n", rcpt_kind::temporary, "4.3.0"},
                        {"554 5.6.0 content rejected\r\n", rcpt_kind::permanent, "5.6.0"}};
    for (const auto& row : rows) {
        const std::string reply = row.reply;
        INFO(reply);
        const std::string body = dot_stuff("Subject: t\r\n\r\nhello\r\n");
        auto t = make_transaction({"a@mx.test", "b@mx.test"}, body);
        auto o = run(
            [&](peer& p) -> asio::awaitable<void> {
                co_await p.greet();
                co_await p.accept(3);
                co_await p.finish(reply);
            },
            &t);
        REQUIRE(o.done);
        REQUIRE(o.sent);
        CHECK(o.sent->body_sent);
        for (const auto& r : o.sent->recipients) {
            CHECK(r.kind == row.kind);
            CHECK(r.status == row.status);
        }
    }
}

TEST_CASE("client: lines starting with a dot are stuffed on the wire and the message ends with <CRLF>.<CRLF>")
{
    const std::string message = "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\nmiddle . dot\r\n.\r\nlast";
    const std::string body = dot_stuff(message);
    auto t = make_transaction({"a@mx.test"}, body);
    std::string data;
    auto o = run(
        [&](peer& p) -> asio::awaitable<void> {
            co_await p.greet();
            co_await accept_all(p, 1, &data);
        },
        &t);
    REQUIRE(o.done);
    REQUIRE(o.sent);
    CHECK(o.sent->recipients[0].kind == rcpt_kind::delivered);
    CHECK(data == "Subject: dots\r\n\r\n..leading dot\r\n...two dots\r\nmiddle . dot\r\n..\r\nlast\r\n.\r\n");
}

TEST_CASE("client: a connection dropped in the middle of DATA leaves the recipients temporary, body sent")
{
    std::string message = "Subject: big\r\n\r\n";
    while (message.size() < 200000) message += "0123456789012345678901234567890123456789012345678901234567890123\r\n";
    const std::string body = dot_stuff(message);
    auto t = make_transaction({"a@mx.test", "b@mx.test"}, body);
    auto o = run(
        [&](peer& p) -> asio::awaitable<void> {
            co_await p.greet();
            co_await p.accept(3);
            co_await p.line();
            co_await p.say("354 go\r\n");
            co_await p.some(1000);  // part of the body, then hang up
        },
        &t);
    REQUIRE(o.done);
    REQUIRE(o.sent);
    CHECK(o.sent->body_sent);  // the pool must defer, not try elsewhere at once (duplicates)
    for (const auto& r : o.sent->recipients) {
        CHECK(r.kind == rcpt_kind::undecided);
        CHECK(r.status == "4.4.2");
        CHECK(r.reason.find("lost connection") != std::string::npos);
    }
}

TEST_CASE("client: a multi-line reply split across reads (even inside a line) is read whole")
{
    // SIZE 100 is on the last line of the EHLO reply: the client knows it only if it read
    // the whole split reply; a 200-octet message is then refused before MAIL (5.3.4).
    const std::string body = dot_stuff(std::string(200, 'x') + "\r\n");
    auto t = make_transaction({"a@mx.test"}, body);
    auto o = run(
        [&](peer& p) -> asio::awaitable<void> {
            co_await p.say("220-mx.test ESMTP\r\n220 ");
            co_await p.pause(50ms);
            co_await p.say("ready\r\n");
            co_await p.line();
            co_await p.say("250-mx.test\r\n250-PIPEL");
            co_await p.pause(50ms);
            co_await p.say("INING\r\n25");
            co_await p.pause(50ms);
            co_await p.say("0 SIZE 100\r\n");
            co_await p.line();  // QUIT
            co_await p.say("221 bye\r\n");
        },
        &t);
    REQUIRE(o.done);
    REQUIRE(o.opened.status == open_status::ok);
    REQUIRE(o.sent);
    CHECK(o.sent->recipients[0].kind == rcpt_kind::permanent);
    CHECK(o.sent->recipients[0].status == "5.3.4");
    CHECK_FALSE(has_line_starting(o.server_lines, "MAIL"));
}

TEST_CASE("client: an oversized reply drops the connection: a temporary failure, nothing decided")
{
    const std::string body = dot_stuff("Subject: t\r\n\r\nhello\r\n");
    auto t = make_transaction({"a@mx.test"}, body);
    auto o = run(
        [&](peer& p) -> asio::awaitable<void> {
            co_await p.greet();
            co_await p.line();  // MAIL
            co_await p.say("250 " + std::string(reply_line_octets + 10, 'A') + "\r\n");
            co_await p.line();  // the client hangs up instead of sending RCPT
        },
        &t);
    REQUIRE(o.done);
    REQUIRE(o.sent);
    CHECK_FALSE(o.sent->body_sent);
    CHECK(o.sent->recipients[0].kind == rcpt_kind::undecided);  // the pool tries the next host or defers
    CHECK(o.sent->recipients[0].status == "4.4.2");
    CHECK_FALSE(has_line_starting(o.server_lines, "RCPT"));

    // Too many lines in one reply, at greeting time: the open fails (a host failure).
    auto g = run(
        [](peer& p) -> asio::awaitable<void> {
            std::string many;
            for (std::size_t i = 0; i <= reply_max_lines; ++i) many += "220-line\r\n";
            co_await p.say(many + "220 end\r\n");
            co_await p.line();
        },
        nullptr);
    REQUIRE(g.done);
    CHECK(g.opened.status == open_status::failed);
    CHECK(g.server_lines.empty());  // no EHLO after a bad greeting
}

TEST_CASE("client: a silent server times out at the command timeout; a slow but steady one does not")
{
    // Both go through the connection's one deadline timer (net::deadline_watch): it stays armed
    // at the first deadline and must re-arm when later ones have moved it on.
    auto cs = settings();
    cs.command_timeout = 1s;
    cs.data_timeout = 1s;
    SECTION("silent after EHLO: the open fails with a timeout within the command timeout")
    {
        const auto started = std::chrono::steady_clock::now();
        std::chrono::steady_clock::duration waited{};
        auto o = run(
            [&](peer& p) -> asio::awaitable<void> {
                co_await p.say("220 mx.test ESMTP\r\n");
                co_await p.line();  // EHLO, never answered
                co_await p.line();  // returns when the client gives up and closes
                waited = std::chrono::steady_clock::now() - started;
            },
            nullptr, cs);
        REQUIRE(o.done);
        CHECK(o.opened.status == open_status::failed);
        CHECK(o.opened.reason.find("EHLO/HELO failed: timeout") != std::string::npos);
        CHECK(waited >= 900ms);
        CHECK(waited < 2500ms);
    }
    SECTION("every reply 700 ms late: the transaction outlives several timeouts and succeeds")
    {
        const std::string body = dot_stuff("Subject: t\r\n\r\nhello\r\n");
        auto t = make_transaction({"a@mx.test"}, body);
        auto o = run(
            [&](peer& p) -> asio::awaitable<void> {
                auto late = [&p](std::string reply) -> asio::awaitable<void> {
                    co_await p.pause(700ms);
                    co_await p.say(std::move(reply));
                };
                co_await late("220 mx.test ESMTP\r\n");
                const std::vector<std::string> replies = {"250 mx.test\r\n", "250 ok\r\n", "250 ok\r\n",
                                                          "354 go ahead\r\n"};  // EHLO, MAIL, RCPT, DATA
                for (const auto& reply : replies) {
                    co_await p.line();
                    co_await late(reply);
                }
                co_await p.data();
                co_await late("250 2.0.0 queued\r\n");
                co_await p.line();
                co_await p.say("221 bye\r\n");
            },
            &t, cs);
        REQUIRE(o.done);
        REQUIRE(o.opened.status == open_status::ok);
        REQUIRE(o.sent);
        CHECK(o.sent->recipients[0].kind == rcpt_kind::delivered);
    }
}
