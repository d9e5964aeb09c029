#include "support/catch.hpp"

#include "metrics/http.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <string>
#include <thread>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace postrider;

namespace {

// fetch - one blocking HTTP/1.1 GET; the whole answer (the endpoint closes after one request).
std::string fetch(std::uint16_t port, const std::string& path)
{
    asio::io_context io;
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n";
    asio::write(s, asio::buffer(req));
    std::string out;
    boost::system::error_code ec;
    asio::read(s, asio::dynamic_buffer(out), ec);
    return out;
}

}  // namespace

TEST_CASE("probes answer without sampling the daemon; only /metrics samples it", "[metrics][http]")
{
    asio::io_context io;
    metrics::registry reg;
    std::atomic<int> samples{0};
    std::atomic<bool> ready{true};
    metrics::http_endpoint ep(
        io.get_executor(), {asio::ip::make_address("127.0.0.1"), 0}, reg,
        [&] {
            ++samples;
            return metrics::scrape_sample{};
        },
        [&] { return ready.load(); });
    ep.start();
    const auto port = ep.local_endpoint().port();
    auto work = asio::make_work_guard(io);
    std::thread loop([&] { io.run(); });

    const auto healthz = fetch(port, "/healthz");
    const auto readyz = fetch(port, "/readyz");
    ready = false;
    const auto stopping = fetch(port, "/readyz");
    const auto missing = fetch(port, "/nope");
    const int after_probes = samples;
    const auto scrape = fetch(port, "/metrics");
    const int after_scrape = samples;

    asio::post(io, [&] {
        ep.stop();
        work.reset();
    });
    loop.join();

    CHECK(healthz.starts_with("HTTP/1.1 200"));
    CHECK(readyz.starts_with("HTTP/1.1 200"));
    CHECK(stopping.starts_with("HTTP/1.1 503"));
    CHECK(missing.starts_with("HTTP/1.1 404"));
    CHECK(scrape.starts_with("HTTP/1.1 200"));
    CHECK(scrape.find("postrider_ready") != std::string::npos);
    CHECK(after_probes == 0);  // a liveness probe never walks the queue
    CHECK(after_scrape == 1);
}
