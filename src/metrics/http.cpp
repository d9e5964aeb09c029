#include "metrics/http.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <string>

#include "net/listener.hpp"

namespace postrider::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr std::size_t max_connections = 8;
constexpr std::chrono::seconds deadline{5};
constexpr std::uint32_t max_request_octets = 8192;

struct answer {
    http::status status;
    std::string content_type, body;
};

// route - the response for one request target (no I/O). Only /metrics samples the daemon
//         (a queue census); the probes stay cheap however large the queue is.
answer route(http::verb method, std::string_view target, const registry& r, const http_endpoint::sampler& sample,
             const http_endpoint::probe& ready)
{
    if (method != http::verb::get && method != http::verb::head)
        return {http::status::method_not_allowed, "text/plain; charset=utf-8", "GET or HEAD only\n"};
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (target == "/metrics") return {http::status::ok, "text/plain; version=0.0.4; charset=utf-8", r.render(sample())};
    if (target == "/healthz") return {http::status::ok, "text/plain; charset=utf-8", "ok\n"};
    if (target == "/readyz")
        return ready() ? answer{http::status::ok, "text/plain; charset=utf-8", "ready\n"}
                       : answer{http::status::service_unavailable, "text/plain; charset=utf-8", "stopping\n"};
    return {http::status::not_found, "text/plain; charset=utf-8", "not found\n"};
}

}  // namespace

struct http_endpoint::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor ex, const tcp::endpoint& where, const registry& r, sampler s, probe p)
        : ex(ex), listener(ex, where), reg(r), sample(std::move(s)), ready(std::move(p))
    {
    }

    // accept - one connection from net::listener (which backs off when out of descriptors).
    void accept(tcp::socket sock)
    {
        if (active >= max_connections) return;  // dropped: a scraper retries
        ++active;
        asio::co_spawn(ex, serve(std::move(sock)), [self = shared_from_this()](std::exception_ptr) {
            --self->active;  // one bad request never takes the daemon down
        });
    }

    asio::awaitable<void> serve(tcp::socket sock)
    {
        auto self = shared_from_this();
        beast::tcp_stream stream(std::move(sock));
        beast::flat_buffer buffer(max_request_octets);
        http::request_parser<http::empty_body> parser;
        parser.header_limit(max_request_octets);
        stream.expires_after(deadline);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        const auto& req = parser.get();
        answer a = route(req.method(), std::string_view(req.target().data(), req.target().size()), reg, sample, ready);
        http::response<http::string_body> res{a.status, req.version()};
        res.set(http::field::server, "postrider");
        res.set(http::field::content_type, a.content_type);
        res.keep_alive(false);
        res.body() = std::move(a.body);
        res.prepare_payload();
        if (req.method() == http::verb::head) res.body().clear();  // Content-Length stays that of GET
        stream.expires_after(deadline);
        auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        (void)wec;
        (void)wn;
        (void)n;
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    asio::any_io_executor ex;
    net::listener listener;
    const registry& reg;
    sampler sample;
    probe ready;
    std::size_t active = 0;
};

http_endpoint::http_endpoint(asio::any_io_executor ex, const tcp::endpoint& where, const registry& r, sampler sample,
                             probe ready)
    : impl_(std::make_shared<impl>(std::move(ex), where, r, std::move(sample), std::move(ready)))
{
}

http_endpoint::~http_endpoint() { stop(); }

tcp::endpoint http_endpoint::local_endpoint() const { return impl_->listener.local_endpoint(); }

void http_endpoint::start()
{
    asio::co_spawn(impl_->ex, impl_->listener.run([self = impl_](tcp::socket s) { self->accept(std::move(s)); }),
                   [](std::exception_ptr) {});
}

void http_endpoint::stop() { impl_->listener.close(); }

}  // namespace postrider::metrics
