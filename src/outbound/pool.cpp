// outbound/pool.cpp: remote delivery (see pool.hpp; design in docs/remote-delivery.md).
#include "outbound/pool.hpp"

#include "core/escape.hpp"
#include "log/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <exception>

namespace postrider::outbound {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using queue::outcome_kind;
using queue::remote_outcome;

namespace {

// endpoint_key - "127.0.0.5:25" / "[::1]:25": downed-host and idle-cache key.
std::string endpoint_key(const asio::ip::tcp::endpoint& ep)
{
    auto a = ep.address().to_string();
    return (ep.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(ep.port());
}

}  // namespace

// cache_key - idle-cache key: the address, the TLS request (a plaintext connection kept for a
//             "may" domain must not carry mail of an "encrypt" one, nor one verified for another
//             name), and whether it carries the relayhost's AUTH or CAs, so an unauthenticated
//             connection is never reused where AUTH is due.
std::string pool::cache_key(const target& t, const asio::ip::tcp::endpoint& ep) const
{
    const bool special = t.relayhost && (s_.relayhost_auth || !s_.relayhost_ca_file.empty());
    std::string key = endpoint_key(ep) + " tls=" + std::string(level_name(t.tls.level));
    if (verifies(t.tls.level)) key += ":" + t.tls.match;
    return key + (special ? " relayhost" : "");
}

namespace {

// outcome - built by a plain function: brace-initialising aggregates with string
//           temporaries inside g++ 12 coroutines has destroyed them twice here.
remote_outcome outcome(outcome_kind k, std::string status, std::string reason, std::string relay)
{
    remote_outcome o;
    o.kind = k;
    o.status = std::move(status);
    o.reason = std::move(reason);
    o.relay = std::move(relay);
    return o;
}

// every - the same outcome for n recipients.
std::vector<remote_outcome> every(std::size_t n, const remote_outcome& o) { return std::vector<remote_outcome>(n, o); }

// make_tls_context - TLS 1.2+, no verification by default: opportunistic STARTTLS (RFC 3207 4.1
//                    allows it; RFC 7435). ca_file's CAs are loaded for streams that verify
//                    (verify/secure levels, the relayhost with relayhost_tls_ca_file); a bad
//                    file throws at start-up.
asio::ssl::context make_tls_context(const std::string& ca_file)
{
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_verify_mode(asio::ssl::verify_none);
    if (!ca_file.empty()) ctx.load_verify_file(ca_file);
    return ctx;
}

}  // namespace

// One delivery's progress: which recipients are still undecided, and why the last try failed.
// A constructor, not aggregate init: g++ 12 destroys brace-init temporaries of a
// coroutine local twice (seen here as a double free of body).
struct pool::batch_state {
    explicit batch_state(const queue::remote_batch& b)
        : batch(b), out(b.recipients.size()), decided(b.recipients.size(), false)
    {
    }
    const queue::remote_batch& batch;
    std::vector<remote_outcome> out;
    std::vector<bool> decided;
    std::optional<std::string> body;  // dot-stuffed, loaded on first use
    bool load_failed = false;
    std::string last_error = "no MX host could be reached";
    std::string last_code = "4.4.1";  // enhanced status for recipients left undecided (4.7.x: TLS policy)

    // note - why the last try failed; code is the enhanced status the undecided recipients get.
    void note(std::string error, std::string code = "4.4.1")
    {
        last_error = std::move(error);
        last_code = code.empty() ? "4.4.1" : std::move(code);
    }
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::int64_t setup_us = 0;  // from the start of routing to the last usable connection

    // finish - the outcomes: recipients still undecided are deferred with the last failure.
    //          (Kept out of pool::deliver's coroutine body: with this loop inlined there, g++ 12
    //          -O2 reports a false -Wmismatched-new-delete on Asio's coroutine frame.)
    std::vector<remote_outcome> finish()
    {
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (!decided[i]) out[i] = outcome(outcome_kind::deferred, last_code, last_error, "none");
            out[i].setup_us = setup_us;
        }
        return std::move(out);
    }

    std::size_t undecided() const
    {
        std::size_t n = 0;
        for (bool d : decided) n += d ? 0 : 1;
        return n;
    }
};

pool::pool(asio::any_io_executor ex, dns::resolver& resolver, pool_settings s)
    : ex_(ex), resolver_(resolver), s_(std::move(s)), tls_(make_tls_context(s_.tls_ca_file)),
      relay_tls_(make_tls_context(s_.relayhost_ca_file)),
      limiter_(std::make_shared<limiter>(ex, s_.concurrency, s_.destination_concurrency)), sweep_timer_(ex),
      rng_(std::random_device{}())
{
}

pool::~pool() = default;

void pool::stop()
{
    stopped_ = true;
    limiter_->stop();
    for (auto& [key, list] : idle_)
        for (auto& ic : list) close_later(std::move(ic.client));
    idle_.clear();
    sweep_timer_.cancel();
    sweeping_ = false;
}

std::size_t pool::idle_connections() const noexcept
{
    std::size_t n = 0;
    for (const auto& [key, list] : idle_) n += list.size();
    return n;
}

asio::awaitable<std::vector<remote_outcome>> pool::deliver(queue::remote_batch batch)
{
    const std::size_t n = batch.recipients.size();
    // A routed domain keeps its own queue; everything sent to the relayhost shares one.
    bool to_relayhost = false;
    next_hop(batch.domain, to_relayhost);
    const std::string dest = to_relayhost ? "relayhost" : batch.domain;
    auto slot = co_await limiter_->acquire(dest);
    if (!slot) co_return every(n, outcome(outcome_kind::deferred, "4.3.2", "remote delivery is shutting down", "none"));

    auto where = co_await route(batch.domain);
    if (where.failure) co_return every(n, *where.failure);

    batch_state st(batch);
    std::size_t attempts = 0;
    for (const auto& t : where.hosts) {
        std::string error;
        auto eps = co_await endpoints(t, error);
        if (eps.empty()) st.note(error);
        for (const auto& ep : eps) {
            if (st.undecided() == 0 || st.load_failed || attempts >= s_.max_addresses) break;
            ++attempts;
            co_await try_endpoint(st, t, ep);
        }
        if (st.undecided() == 0 || st.load_failed || attempts >= s_.max_addresses) break;
    }
    co_return st.finish();
}

std::optional<nexthop> pool::next_hop(const std::string& domain, bool& is_relayhost) const
{
    is_relayhost = false;
    // Postfix order: transport_maps first, then relayhost, then the domain's MX.
    if (auto routed = s_.routes.lookup(domain)) return routed;
    is_relayhost = s_.relayhost.has_value();
    return s_.relayhost;
}

tls_request pool::tls_for(const std::string& domain, const std::optional<nexthop>& hop, bool is_relayhost,
                          const std::string& host) const
{
    tls_request r;
    if (is_relayhost && !s_.relayhost_ca_file.empty()) {
        // relayhost_tls_ca_file: mandatory and verified against the host connected to.
        r.level = tls_level::verify;
        r.match = host;
        return r;
    }
    r.level = s_.tls_policies.lookup(domain).value_or(s_.tls_default);
    // verify trusts the MX lookup (the MX host name); secure wants the next hop's own name.
    if (r.level == tls_level::verify) r.match = host;
    if (r.level == tls_level::secure) r.match = hop ? hop->host : domain;
    return r;
}

asio::ssl::context& pool::context_for(const target& t)
{
    return t.relayhost && !s_.relayhost_ca_file.empty() ? relay_tls_ : tls_;
}

asio::awaitable<pool::targets> pool::route(const std::string& domain)
{
    targets out;
    bool is_relayhost = false;
    const auto hop = next_hop(domain, is_relayhost);
    if (hop && !hop->mx_lookup) {
        target t;
        t.host = hop->host;
        t.port = hop->port;
        t.relayhost = is_relayhost;
        t.tls = tls_for(domain, hop, is_relayhost, t.host);
        out.hosts.push_back(std::move(t));
        co_return out;
    }
    const std::string name = hop ? hop->host : domain;
    const std::uint16_t port = hop ? hop->port : s_.port;
    auto answer = co_await resolver_.mx(name);
    dns::mx_plan plan;
    if (!answer.ec) {
        plan = dns::plan_mx(std::move(answer.records), [this](std::uint32_t k) {
            return std::uniform_int_distribution<std::uint32_t>(0, k - 1)(rng_);
        });
    } else if (dns::is_no_data(answer.ec)) {
        plan = dns::implicit_mx(name);  // RFC 5321 5.1: no MX, the domain itself
    } else if (dns::is_permanent(answer.ec)) {
        out.failure = outcome(outcome_kind::failed, "5.1.2",
                       "domain " + core::escape(name) + " not found: " + core::escape(answer.ec.message()), "none");
        co_return out;
    } else {
        out.failure = outcome(outcome_kind::deferred, "4.4.3",
                       "MX lookup for " + core::escape(name) + " failed: " + core::escape(answer.ec.message()), "none");
        co_return out;
    }
    if (plan.kind == dns::mx_kind::null_mx) {
        // RFC 7505 4.2: a null MX means the domain accepts no mail; 5.1.10 per RFC 7505 4.2.
        out.failure = outcome(outcome_kind::failed, "5.1.10", "domain " + core::escape(name) + " accepts no mail (null MX)",
                              "none");
        co_return out;
    }
    if (plan.kind == dns::mx_kind::no_hosts) {
        out.failure = outcome(outcome_kind::deferred, "4.4.3", "no usable MX host name for " + core::escape(name), "none");
        co_return out;
    }
    if (plan.hosts.size() > s_.max_mx_hosts) plan.hosts.resize(s_.max_mx_hosts);
    for (auto& h : plan.hosts) {
        target t;
        t.host = std::move(h);
        t.port = port;
        t.relayhost = is_relayhost;
        t.tls = tls_for(domain, hop, is_relayhost, t.host);
        out.hosts.push_back(std::move(t));
    }
    co_return out;
}

asio::awaitable<std::vector<asio::ip::tcp::endpoint>> pool::endpoints(const target& t, std::string& error)
{
    std::vector<asio::ip::tcp::endpoint> eps;
    boost::system::error_code ec;
    auto literal = asio::ip::make_address(t.host, ec);
    if (!ec) {
        eps.emplace_back(literal, t.port);
        co_return eps;
    }
    auto a = co_await resolver_.addresses(t.host);
    if (a.ec) {
        error = "address lookup for " + core::escape(t.host) + " failed: " + core::escape(a.ec.message());
        co_return eps;
    }
    for (const auto& addr : a.addresses) eps.emplace_back(addr, t.port);
    co_return eps;
}

asio::awaitable<std::unique_ptr<smtp_client>> pool::connect(const target& t, asio::ip::tcp::endpoint ep,
                                                            std::string& error, std::string& code, bool& host_failed)
{
    host_failed = false;
    const sasl_credentials* auth = t.relayhost && s_.relayhost_auth ? &*s_.relayhost_auth : nullptr;
    const std::string key = cache_key(t, ep);
    for (auto it = idle_.find(key); it != idle_.end() && !it->second.empty();) {
        auto c = std::move(it->second.back().client);
        it->second.pop_back();
        if (it->second.empty()) idle_.erase(it);
        // RSET proves the cached connection still works before a new transaction rides on it.
        if (co_await c->reset()) co_return c;
        close_later(std::move(c));
        it = idle_.find(key);
    }
    for (int pass = 0; pass < 2; ++pass) {  // not a braced list: range-for over one in a coroutine is fragile in g++ 12
        tls_request tls = t.tls;
        if (pass == 1) tls.level = tls_level::none;
        auto c = std::make_unique<smtp_client>(ex_, context_for(t), s_.client);
        auto r = co_await c->open(ep, t.host, std::move(tls), auth);
        if (r.status == open_status::ok) {
            if (!c->tls().empty()) log::info("TLS connection established to {}: {}", c->relay(), c->tls());
            co_return c;
        }
        error = r.reason;
        code = r.code;
        host_failed = r.status == open_status::failed;
        close_later(std::move(c));
        // Opportunistic TLS: a failed handshake is retried once in plaintext (as Postfix "may" does),
        // unless credentials are due or the policy requires TLS: then the retry cannot help.
        if (r.status != open_status::tls_failed || auth || t.tls.level != tls_level::may) break;
        log::info("{} (retrying without TLS)", error);
    }
    co_return nullptr;
}

asio::awaitable<void> pool::try_endpoint(batch_state& st, const target& t, asio::ip::tcp::endpoint ep)
{
    const std::string key = endpoint_key(ep);
    if (is_down(key)) {
        st.note("host " + core::escape(t.host) + "[" + key + "] skipped: failed recently");
        co_return;
    }
    std::string error, code;
    bool host_failed = false;
    auto c = co_await connect(t, ep, error, code, host_failed);
    if (!c) {
        if (host_failed) mark_down(key, error);
        st.note(error, code);
        co_return;
    }
    st.setup_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - st.started)
                      .count();
    co_await run_transactions(st, *c);
    if (c->usable() && !stopped_)
        park(cache_key(t, ep), std::move(c));
    else
        close_later(std::move(c));
}

asio::awaitable<void> pool::run_transactions(batch_state& st, smtp_client& c)
{
    const auto& b = st.batch;
    bool first = true;
    while (st.undecided() > 0 && c.usable()) {
        if (!first && !co_await c.reset()) break;
        first = false;
        if (!st.body) {
            std::optional<std::string> content;
            if (b.load) {
                auto loaded = co_await b.load();  // not inside ?: (g++ 12 coroutine temporaries)
                content = std::move(loaded);
            }
            if (!content) {
                st.load_failed = true;
                st.note("queue file read error");
                co_return;
            }
            st.body = dot_stuff(*content);
        }
        transaction t;
        t.options.size = b.size;
        t.options.body_8bit = b.body_8bit;
        t.options.smtputf8 = b.smtputf8;
        t.options.ret_full = b.ret_full;
        t.options.envid = b.envid;
        t.body = &*st.body;
        // One transaction carries the undecided recipients that share the first one's sender
        // (all of them, unless VERP gave each its own); the loaded body serves every transaction.
        std::vector<std::size_t> index;
        const std::string* sender = nullptr;
        for (std::size_t i = 0; i < b.recipients.size() && index.size() < transaction_recipients; ++i) {
            if (st.decided[i]) continue;
            const std::string& from = b.recipients[i].sender ? *b.recipients[i].sender : b.sender;
            if (!sender) sender = &from;
            else if (from != *sender) continue;
            index.push_back(i);
            t.recipients.push_back(b.recipients[i]);
        }
        t.sender = *sender;
        auto res = co_await c.send(t);
        for (std::size_t k = 0; k < index.size(); ++k) {
            const auto& r = res.recipients[k];
            auto& o = st.out[index[k]];
            if (r.kind == rcpt_kind::undecided) {
                st.note(r.reason);
                // The server may have the message (lost after the final dot): retry later, not elsewhere now.
                if (!res.body_sent) continue;
                o = outcome(outcome_kind::deferred, r.status, r.reason, c.relay());
            } else {
                o = outcome(r.kind == rcpt_kind::delivered   ? outcome_kind::delivered
                            : r.kind == rcpt_kind::permanent ? outcome_kind::failed
                                                             : outcome_kind::deferred,
                            r.status, r.reason, c.relay());
            }
            st.decided[index[k]] = true;
        }
    }
}

bool pool::is_down(const std::string& key)
{
    auto it = down_.find(key);
    if (it == down_.end()) return false;
    if (it->second <= steady::now()) {
        down_.erase(it);
        return false;
    }
    return true;
}

void pool::mark_down(const std::string& key, const std::string& why)
{
    if (s_.host_down_time.count() <= 0) return;
    // Bounded: the map holds only addresses that failed within host_down_time.
    std::erase_if(down_, [now = steady::now()](const auto& kv) { return kv.second <= now; });
    down_[key] = steady::now() + s_.host_down_time;
    log::info("remote host {} marked down for {}s: {}", key, s_.host_down_time.count(), why);
}

void pool::park(const std::string& key, std::unique_ptr<smtp_client> c)
{
    if (s_.idle_time.count() <= 0) return close_later(std::move(c));
    idle_[key].push_back({std::move(c), steady::now()});
    if (!sweeping_) arm_sweep();
}

void pool::sweep()
{
    const auto limit = steady::now() - s_.idle_time;
    for (auto it = idle_.begin(); it != idle_.end();) {
        auto& list = it->second;
        for (auto& ic : list)
            if (ic.since <= limit) close_later(std::move(ic.client));
        std::erase_if(list, [](const idle_connection& ic) { return !ic.client; });
        it = list.empty() ? idle_.erase(it) : std::next(it);
    }
    if (!idle_.empty() && !stopped_) arm_sweep();
}

void pool::arm_sweep()
{
    sweeping_ = true;
    sweep_timer_.expires_after(std::chrono::seconds(1));
    sweep_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;  // cancelled (stop, or the pool is going away): do not touch *this
        sweeping_ = false;
        sweep();
    });
}

void pool::close_later(std::unique_ptr<smtp_client> c)
{
    if (!c) return;
    std::shared_ptr<smtp_client> owned(std::move(c));
    asio::co_spawn(
        ex_, [owned]() -> asio::awaitable<void> { co_await owned->quit(); },
        [](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                log::error("closing a remote connection failed: {}", core::escape(x.what()));
            }
        });
}

}  // namespace postrider::outbound
