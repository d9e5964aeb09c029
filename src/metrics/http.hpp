// metrics/http.hpp: the loopback HTTP endpoint: /metrics (Prometheus text), /healthz, /readyz.
//
// Owns: short-lived connections (one request each, 5 s deadline, 8 KiB request cap,
//       at most 8 at once), routing of the three paths. Accepting is net::listener's
//       (it backs off instead of spinning when the process is out of descriptors).
// Trust: requests are UNTRUSTED but only GET/HEAD of fixed paths are served; nothing
//       from the request is echoed. Bind to loopback unless a scraper needs otherwise.
// Executor: run on the io_context's thread; sample() runs there too.
// See also: metrics/registry.hpp, docs/configuration.md (metrics_listen).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <functional>
#include <memory>

#include "metrics/registry.hpp"

namespace postrider::metrics {

class http_endpoint {
public:
    using sampler = std::function<scrape_sample()>;  // /metrics only: may walk the whole queue
    using probe = std::function<bool()>;             // /readyz: cheap, answers "accepting mail?"
    // http_endpoint - bind and listen; throws boost::system::system_error (start-up).
    http_endpoint(boost::asio::any_io_executor ex, const boost::asio::ip::tcp::endpoint& where, const registry& r,
                  sampler sample, probe ready);
    ~http_endpoint();
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    // start - begin serving.
    void start();
    // stop - close the acceptor; requests in progress finish (bounded by their deadline).
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace postrider::metrics
