// tests/unit/outbound/pool_test.cpp: pool::deliver against an in-process server that accepts
// everything (relayhost [127.0.0.1]:PORT, so no DNS is asked).
//
// One io_context per case; io.run_for() bounds it and the checks run after it, outside the
// coroutines (TOOLCHAIN.md section 3).
#include "support/catch.hpp"

#include "dns/resolver.hpp"
#include "outbound/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace postrider;
using namespace std::chrono_literals;

namespace {

struct server_log {
    int connections = 0;
    std::vector<std::string> lines;  // every command line, in order (DATA content left out)
    int messages = 0;
};

// serve_one - 250 to everything (354 to DATA), 221 to QUIT; one connection.
asio::awaitable<void> serve_one(tcp::socket s, server_log& log)
{
    std::string buf;
    auto say = [&s](std::string text) -> asio::awaitable<void> {
        co_await asio::async_write(s, asio::buffer(text), asio::as_tuple(asio::use_awaitable));
    };
    co_await say("220 mx.test ESMTP\r\n");
    for (;;) {
        auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buf, 1 << 20), "\r\n",
                                                       asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        std::string line = buf.substr(0, n - 2);
        buf.erase(0, n);
        log.lines.push_back(line);
        if (line.rfind("EHLO", 0) == 0) {
            co_await say("250-mx.test\r\n250 PIPELINING\r\n");
        } else if (line == "DATA") {
            co_await say("354 go ahead\r\n");
            auto [dec, dn] = co_await asio::async_read_until(s, asio::dynamic_buffer(buf, 1 << 20), "\r\n.\r\n",
                                                             asio::as_tuple(asio::use_awaitable));
            if (dec) co_return;
            buf.erase(0, dn);
            ++log.messages;
            co_await say("250 queued\r\n");
        } else if (line == "QUIT") {
            co_await say("221 bye\r\n");
            co_return;
        } else {
            co_await say("250 ok\r\n");
        }
    }
}

asio::awaitable<void> accept_all(tcp::acceptor& a, server_log& log)
{
    for (;;) {
        auto [ec, s] = co_await a.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        ++log.connections;
        asio::co_spawn(a.get_executor(), serve_one(std::move(s), log), asio::detached);
    }
}

queue::remote_recipient rcpt(std::string address, std::optional<std::string> sender = std::nullopt)
{
    queue::remote_recipient r;
    r.address = std::move(address);
    r.sender = std::move(sender);
    return r;
}

// deliver - b through a pool whose relayhost is a fresh accept-all server; nullopt: no answer in 10 s.
std::optional<std::vector<queue::remote_outcome>> deliver(queue::remote_batch b, server_log& log)
{
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::co_spawn(io, accept_all(acceptor, log), asio::detached);
    dns::resolver_settings rs;
    rs.servers = {"127.0.0.1:9"};  // never asked: the relayhost is a literal address
    dns::resolver resolver(io.get_executor(), rs);
    outbound::pool_settings ps;
    ps.client.helo_name = "client.test";
    ps.client.connect_timeout = 3s;
    ps.client.command_timeout = 3s;
    ps.client.data_timeout = 3s;
    ps.client.starttls = false;
    ps.relayhost = outbound::nexthop{"127.0.0.1", acceptor.local_endpoint().port(), false};
    outbound::pool p(io.get_executor(), resolver, ps);
    std::optional<std::vector<queue::remote_outcome>> out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto r = co_await p.deliver(std::move(b));
            out = std::move(r);
        },
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    for (auto end = std::chrono::steady_clock::now() + 10s; !out && std::chrono::steady_clock::now() < end;)
        io.run_for(20ms);
    p.stop();
    acceptor.close();
    io.run_for(100ms);
    return out;
}

asio::awaitable<std::optional<std::string>> load_message(int* loads)
{
    if (loads) ++*loads;
    co_return std::string("Subject: x\r\n\r\nbody\r\n");
}

queue::remote_batch batch(std::vector<queue::remote_recipient> rcpts, int* loads = nullptr)
{
    queue::remote_batch b;
    b.queue_id = "0000000000000AAAA";
    b.sender = "owner@example.org";
    b.domain = "a.example";
    b.recipients = std::move(rcpts);
    b.size = 20;
    b.load = [loads] { return load_message(loads); };  // not a coroutine lambda: no dangling captures
    return b;
}

}  // namespace

TEST_CASE("pool: recipients with their own senders (VERP) get one transaction each, the message loaded once",
          "[pool][verp]")
{
    server_log log;
    int loads = 0;
    auto out = deliver(batch({rcpt("ann@a.example", "owner+ann=a.example@example.org"),
                              rcpt("bob@a.example", "owner+bob=a.example@example.org"),
                              rcpt("cy@a.example", "owner+cy=a.example@example.org"), rcpt("dee@a.example")},
                             &loads),
                       log);
    REQUIRE(out);
    REQUIRE(out->size() == 4);
    for (const auto& o : *out) CHECK(o.kind == queue::outcome_kind::delivered);
    CHECK(loads == 1);
    CHECK(log.connections == 1);
    CHECK(log.messages == 4);
    std::vector<std::string> mail;
    for (const auto& l : log.lines)
        if (l.rfind("MAIL FROM:", 0) == 0 || l.rfind("RCPT TO:", 0) == 0) mail.push_back(l.substr(0, l.find('>') + 1));
    CHECK(mail == std::vector<std::string>{"MAIL FROM:<owner+ann=a.example@example.org>", "RCPT TO:<ann@a.example>",
                                           "MAIL FROM:<owner+bob=a.example@example.org>", "RCPT TO:<bob@a.example>",
                                           "MAIL FROM:<owner+cy=a.example@example.org>", "RCPT TO:<cy@a.example>",
                                           "MAIL FROM:<owner@example.org>", "RCPT TO:<dee@a.example>"});
}

TEST_CASE("pool: recipients without their own sender share one transaction", "[pool]")
{
    server_log log;
    auto out = deliver(batch({rcpt("ann@a.example"), rcpt("bob@a.example")}), log);
    REQUIRE(out);
    REQUIRE(out->size() == 2);
    for (const auto& o : *out) CHECK(o.kind == queue::outcome_kind::delivered);
    CHECK(log.messages == 1);
    CHECK(std::count_if(log.lines.begin(), log.lines.end(), [](const std::string& l) { return l.rfind("MAIL FROM:", 0) == 0; }) == 1);
}
