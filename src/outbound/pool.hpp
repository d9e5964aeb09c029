// outbound/pool.hpp: remote delivery: routing, MX resolution, concurrency, connection reuse.
//
// Owns: the remote_transport the queue manager hands batches to; the global and
//       per-destination limits (limiter.hpp); a cache of idle connections per
//       remote address (closed after idle_time); the downed-host memory (an
//       address that refused, timed out or failed the greeting is skipped for
//       host_down_time).
// Trust: DNS answers and server replies are UNTRUSTED (see resolver.hpp,
//        client.hpp); only escaped text reaches outcomes and logs.
// Threads: one executor (single-threaded io_context). deliver() may be awaited
//        from a strand of that io_context.
// Lifetime: the resolver and the ssl context must outlive the pool; the pool must
//        outlive every deliver() it started (stop the io_context first).
// See also: docs/remote-delivery.md, queue/remote.hpp (the contract).
#pragma once

#include "dns/resolver.hpp"
#include "outbound/client.hpp"
#include "outbound/limiter.hpp"
#include "outbound/route.hpp"
#include "outbound/sasl.hpp"
#include "outbound/tls_policy.hpp"
#include "outbound/transport_table.hpp"
#include "queue/remote.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace postrider::outbound {

struct pool_settings {
    client_settings client;
    std::size_t concurrency = 20;             // deliveries (connections) at once, all destinations
    std::size_t destination_concurrency = 5;  // ... to one destination domain (or the relayhost)
    std::uint16_t port = 25;                  // remote SMTP port (tests use free loopback ports)
    std::optional<nexthop> relayhost;         // all remote mail goes here (no per-domain MX)
    std::optional<sasl_credentials> relayhost_auth;  // AUTH to the relayhost, over TLS only
    std::string relayhost_ca_file;            // PEM CAs: relayhost TLS mandatory and verified; empty: opportunistic
    transport_table routes;                   // per-domain next hops; beat relayhost and MX
    tls_level tls_default = tls_level::may;   // remote_tls_policy: for domains not in tls_policies
    tls_policy_table tls_policies;            // per-domain TLS levels (tls_policy.hpp)
    std::string tls_ca_file;                  // PEM CAs for the verify and secure levels
    std::chrono::seconds host_down_time{300}; // skip an address this long after it failed
    std::chrono::seconds idle_time{5};        // keep an idle connection this long for reuse
    std::size_t max_mx_hosts = 5;             // Postfix smtp_mx_address_limit-like bound
    std::size_t max_addresses = 10;           // connection attempts per delivery
};

class pool final : public queue::remote_transport {
public:
    pool(boost::asio::any_io_executor ex, dns::resolver& resolver, pool_settings s);
    ~pool() override;

    // deliver - route, resolve, connect (or reuse), one transaction per 100 recipients.
    boost::asio::awaitable<std::vector<queue::remote_outcome>> deliver(queue::remote_batch batch) override;
    // stop - abandon waits for slots (those recipients are deferred) and close idle connections.
    void stop();
    // set_routes - replace the transport table (SIGHUP); batches already routed keep their hosts.
    void set_routes(transport_table routes) { s_.routes = std::move(routes); }
    // set_tls_policies - replace the TLS policy table (SIGHUP); connections in use keep theirs.
    void set_tls_policies(tls_policy_table policies) { s_.tls_policies = std::move(policies); }

    std::size_t active() const noexcept { return limiter_->active(); }
    std::size_t idle_connections() const noexcept;

private:
    struct target {
        std::string host;  // MX host name (or the literal address)
        std::uint16_t port = 25;
        bool relayhost = false;  // authenticate here when relayhost_auth is set
        tls_request tls;         // the TLS this host must offer (policy of the recipient domain)
    };
    struct targets {
        std::vector<target> hosts;
        std::optional<queue::remote_outcome> failure;  // DNS said no (applies to every recipient)
    };
    struct idle_connection {
        std::unique_ptr<smtp_client> client;
        std::chrono::steady_clock::time_point since;
    };
    struct batch_state;

    // next_hop - the static route for a domain: transport table, else relayhost, else none (MX).
    std::optional<nexthop> next_hop(const std::string& domain, bool& is_relayhost) const;
    // tls_for - the TLS request for host, a next hop of domain (hop: its static route, if any).
    tls_request tls_for(const std::string& domain, const std::optional<nexthop>& hop, bool is_relayhost,
                        const std::string& host) const;
    // context_for - the TLS context (CA store) for a target: the relayhost's own CAs when set.
    boost::asio::ssl::context& context_for(const target& t);
    // route - the hosts to try for a batch, or the DNS failure that decides it.
    boost::asio::awaitable<targets> route(const std::string& domain);
    // endpoints - the addresses of one target (literal, or A/AAAA); sets error when none.
    boost::asio::awaitable<std::vector<boost::asio::ip::tcp::endpoint>> endpoints(const target& t, std::string& error);
    // try_endpoint - deliver the undecided recipients through one address; false: address failed.
    boost::asio::awaitable<void> try_endpoint(batch_state& st, const target& t, boost::asio::ip::tcp::endpoint ep);
    // connect - a cached connection (after RSET) or a new one (TLS first, plaintext if TLS fails,
    //           the level is may and no AUTH is due); on failure, error and code (enhanced status)
    //           say why, host_failed: the address itself failed (mark it down).
    boost::asio::awaitable<std::unique_ptr<smtp_client>> connect(const target& t, boost::asio::ip::tcp::endpoint ep,
                                                                 std::string& error, std::string& code,
                                                                 bool& host_failed);
    // run_transactions - send the undecided recipients through c in chunks of 100.
    boost::asio::awaitable<void> run_transactions(batch_state& st, smtp_client& c);
    // cache_key - idle-connection key: "address:port", the TLS request, and a mark when it carries
    //             relayhost AUTH or CAs: a connection is reused only where it meets the policy.
    std::string cache_key(const target& t, const boost::asio::ip::tcp::endpoint& ep) const;
    // is_down / mark_down - downed-host memory keyed by "address:port".
    bool is_down(const std::string& key);
    void mark_down(const std::string& key, const std::string& why);
    // park - keep a usable connection for reuse; start the idle sweep.
    void park(const std::string& key, std::unique_ptr<smtp_client> c);
    // sweep - close connections idle longer than idle_time (timer-driven).
    void sweep();
    // arm_sweep - run sweep() in a second (one timer for all idle connections).
    void arm_sweep();
    // close_later - QUIT and close a connection in its own coroutine.
    void close_later(std::unique_ptr<smtp_client> c);

    boost::asio::any_io_executor ex_;
    dns::resolver& resolver_;
    pool_settings s_;
    boost::asio::ssl::context tls_;        // remote_tls_ca_file's CAs (verify/secure levels)
    boost::asio::ssl::context relay_tls_;  // relayhost_tls_ca_file's CAs
    std::shared_ptr<limiter> limiter_;
    std::map<std::string, std::chrono::steady_clock::time_point> down_;
    std::map<std::string, std::vector<idle_connection>> idle_;
    boost::asio::steady_timer sweep_timer_;
    bool sweeping_ = false;
    bool stopped_ = false;
    std::mt19937 rng_;
};

}  // namespace postrider::outbound
