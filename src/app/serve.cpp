#include "app/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <stdexcept>
#include <vector>

#include "app/reload.hpp"
#include "app/systemd.hpp"
#include "app/tables.hpp"
#include "core/log_format.hpp"
#include "dns/resolver.hpp"
#include "control/server.hpp"
#include "app/privileges.hpp"
#include "inbound/cidr.hpp"
#include "inbound/server.hpp"
#include "inbound/table_policy.hpp"
#include "local/mailbox_table.hpp"
#include "log/log.hpp"
#include "metrics/http.hpp"
#include "metrics/registry.hpp"
#include "net/endpoint.hpp"
#include "net/tls_server.hpp"
#include "pickup/maildrop.hpp"
#include "pickup/service.hpp"
#include "outbound/pool.hpp"
#include "outbound/secret_file.hpp"
#include "queue/manager.hpp"

namespace postrider::app {

namespace asio = boost::asio;

namespace {

std::string machine_hostname()
{
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
    return name;
}

inbound::session_config session_config_from(const config::settings& s, const std::string& hostname)
{
    inbound::session_config c;
    c.smtp.hostname = hostname;
    c.smtp.max_message_size = s.message_size_limit;
    c.smtp.max_recipients = s.recipient_limit;
    c.smtp.hard_error_limit = s.hard_error_limit;
    c.smtp.verp_delimiters = s.verp_delimiters;
    c.command_timeout = s.command_timeout;
    c.session_budget = s.session_budget;
    c.tls_handshake_timeout = s.tls_handshake_timeout;
    c.auth_failure_delay = s.auth_failure_delay;
    c.smtp.auth_plaintext = s.auth_allow_plaintext;
    c.smtp.sender_login_match = s.auth_sender_login_match;
    c.hide_client_hosts = s.hide_client_hosts;
    return c;
}

queue::settings queue_settings_from(const config::settings& s, const std::string& hostname)
{
    queue::settings q;
    q.queue_dir = s.queue_dir;
    q.mail_root = s.mail_root;
    q.hostname = hostname;
    q.local_concurrency = s.local_concurrency;
    q.journal = s.queue_journal;
    q.max_lifetime = s.max_queue_lifetime;
    q.backoff_first = s.retry_first;
    q.backoff_cap = s.retry_max;
    q.delay_warning = s.delay_warning_time;
    q.double_bounce_recipient = s.double_bounce_recipient;
    q.max_received = s.max_received_headers;
    q.max_forward_depth = s.max_forward_depth;
    q.allow_program_delivery = s.allow_program_delivery;
    q.program_timeout = s.program_timeout;
    q.program_output_limit = s.program_output_limit;
    return q;
}

dns::resolver_settings resolver_settings_from(const config::settings& s)
{
    dns::resolver_settings r;
    r.servers = s.dns_servers;
    r.timeout = s.dns_timeout;
    return r;
}

// pool_settings_from - t gives up its transport and TLS policy tables.
outbound::pool_settings pool_settings_from(const config::settings& s, const std::string& hostname, tables& t)
{
    outbound::pool_settings p;
    p.client.helo_name = hostname;
    p.client.connect_timeout = s.remote_connect_timeout;
    p.client.command_timeout = s.remote_command_timeout;
    p.client.data_timeout = s.remote_data_timeout;
    p.concurrency = s.remote_concurrency;
    p.destination_concurrency = s.remote_destination_concurrency;
    p.port = static_cast<std::uint16_t>(s.remote_smtp_port);
    p.host_down_time = s.remote_host_down_time;
    p.idle_time = s.remote_idle_time;
    if (!s.relayhost.empty()) {
        p.relayhost = outbound::parse_nexthop(s.relayhost, p.port);
        if (!p.relayhost) throw std::runtime_error("relayhost: bad value " + s.relayhost);
    }
    p.relayhost_ca_file = s.relayhost_tls_ca_file;
    if (!s.relayhost_username.empty()) {
        std::string error;
        auto password = outbound::read_secret_file(s.relayhost_password_file, error);
        if (!password) throw std::runtime_error("relayhost_password_file: " + error);
        p.relayhost_auth = outbound::sasl_credentials{s.relayhost_username, std::move(*password)};
    }
    p.routes = std::move(t.routes);
    p.tls_default = outbound::parse_tls_level(s.remote_tls_policy).value_or(outbound::tls_level::may);
    p.tls_ca_file = s.remote_tls_ca_file;
    p.tls_policies = std::move(t.tls_policies);
    return p;
}

// bound - run a bind; a failure becomes one clear line ("listen 127.0.0.1:25: Address already
//         in use") instead of Boost's what(), which carries a source location.
template <class F>
void bound(const std::string& setting, const std::string& where, F&& bind)
{
    try {
        bind();
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error(setting + " " + where + ": " + e.code().message());
    }
}

// finish - after a stop request: exit the loop once sessions and deliveries are done, or at the grace limit.
void finish(asio::io_context& io, asio::steady_timer& poll, inbound::server& server, queue::manager& queue,
            std::chrono::steady_clock::time_point limit)
{
    if ((server.active_sessions() == 0 && queue.idle()) || std::chrono::steady_clock::now() >= limit) {
        if (server.active_sessions() != 0 || !queue.idle())
            log::warn("stop grace period over: exiting with work in flight (the queue keeps it)");
        io.stop();
        return;
    }
    poll.expires_after(std::chrono::milliseconds(50));
    poll.async_wait([&io, &poll, &server, &queue, limit](const boost::system::error_code& ec) {
        if (!ec) finish(io, poll, server, queue, limit);
    });
}

// watch_signals - SIGTERM/SIGINT: stop accepting, let sessions and deliveries finish, then stop.
void watch_signals(asio::io_context& io, asio::signal_set& signals, asio::steady_timer& poll,
                   inbound::server& server, queue::manager& queue, outbound::pool& remote,
                   std::chrono::seconds grace)
{
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        log::info("signal {} received: stopping", signo);
        systemd::stopping("stopping: finishing sessions and deliveries");
        server.stop();
        queue.stop();
        remote.stop();  // waiting remote batches are deferred; idle connections get QUIT
        finish(io, poll, server, queue, std::chrono::steady_clock::now() + grace);
    });
}

// watch_reload - SIGHUP: reload the configuration and tables; open sessions are not touched.
void watch_reload(asio::signal_set& hup, const std::function<loaded_options()>& load, live_config& live)
{
    hup.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        log::info("signal SIGHUP received: reloading");
        systemd::reloading();
        const bool ok = reload(load, live);
        systemd::ready(ok ? "configuration reloaded" : "reload refused: old configuration kept (see log)");
        watch_reload(hup, load, live);
    });
}

// watch_cert_reload - SIGHUP: read the TLS certificate and key again (renewed certificates).
//                     New sessions get the new context; a bad file keeps the old one.
void watch_cert_reload(asio::signal_set& hup, const config::settings& s, inbound::server& server)
{
    hup.async_wait([&hup, &s, &server](const boost::system::error_code& ec, int) {
        if (ec) return;
        if (!s.tls_cert_file.empty()) {
            try {
                server.set_tls(net::make_server_tls_context(s.tls_cert_file, s.tls_key_file));
                log::info("reload: TLS certificate reloaded from {}", s.tls_cert_file);
            } catch (const std::exception& e) {
                log::error("reload: TLS certificate not reloaded, keeping the old one: {}", e.what());
            }
        }
        watch_cert_reload(hup, s, server);
    });
}

}  // namespace

// postdrop_gid - the gid of postdrop_group; unset when the knob is empty. Throws if unknown.
static std::optional<gid_t> postdrop_gid(const config::settings& s)
{
    if (s.postdrop_group.empty()) return std::nullopt;
    struct group g{};
    struct group* found = nullptr;
    std::vector<char> buf(16384);
    if (::getgrnam_r(s.postdrop_group.c_str(), &g, buf.data(), buf.size(), &found) != 0 || !found)
        throw std::runtime_error("postdrop_group: no such group: " + s.postdrop_group);
    return found->gr_gid;
}

int serve(const config::settings& s, const std::function<loaded_options()>& load)
{
    ::umask(077);
    std::signal(SIGPIPE, SIG_IGN);
    const std::string hostname = s.hostname.empty() ? machine_hostname() : s.hostname;

    asio::io_context io(1);
    // Log lines go out once per burst from the loop; the guard writes what waits when serve
    // returns (or throws), before io is gone. Declared after io: destroyed before it.
    log::attach_loop([&io](std::function<void()> f) { asio::post(io, std::move(f)); });
    struct loop_log_guard {
        ~loop_log_guard() { log::detach_loop(); }
    } loop_log;
    // Signals are caught from here on, before any listener says it is ready: a SIGHUP or
    // SIGTERM that arrives during start-up waits in its set for the handler installed below
    // instead of killing the daemon with the default action. Every set for a signal is
    // notified: cert_hup renews the certificate, hup reloads configuration and tables;
    // tool_signals stops pickup and control, signals stops the rest.
    asio::signal_set cert_hup(io, SIGHUP);
    asio::signal_set hup(io, SIGHUP);
    asio::signal_set tool_signals(io, SIGINT, SIGTERM);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    // The same loader as SIGHUP and check-config; here the first problem stops the start.
    std::vector<std::string> errors;
    auto loaded = load_tables(s, errors);
    if (!loaded) throw std::runtime_error(errors.front());
    if (!s.transport_table.empty()) log::info("transport_table {}: {} routes", s.transport_table, loaded->routes.size());
    if (!s.tls_policy_table.empty())
        log::info("tls_policy_table {}: {} entries", s.tls_policy_table, loaded->tls_policies.size());
    // Swapped in place by SIGHUP (app/reload.cpp); everyone holds a reference.
    auto table = std::move(loaded->mailbox);
    // The resolver and the pool outlive the manager that calls them (declared first).
    dns::resolver resolver(io.get_executor(), resolver_settings_from(s));
    outbound::pool remote(io.get_executor(), resolver, pool_settings_from(s, hostname, *loaded));
    auto qs = queue_settings_from(s, hostname);
    qs.remote = &remote;
    metrics::registry stats;  // before the queue: its observers write here
    qs.on_delivery = [&stats](const char* result, bool is_remote, double seconds) {
        stats.delivery(result, is_remote ? "remote" : "local", seconds);
    };
    qs.on_commit = [&stats](bool ok, double seconds) { stats.commit(ok, seconds); };
    queue::manager queue(io.get_executor(), std::move(qs), table);

    // Least privilege (docs/security.md rule 6): state directories go to the service
    // user while we are root; listeners are bound below; then the drop; only then
    // is anything read from the queue or from a client.
    std::optional<service_identity> identity;
    if (!s.user.empty()) {
        if (::geteuid() != 0) throw std::runtime_error("user: set to " + s.user + " but not started as root");
        identity = resolve_identity(s.user, s.group);
        hand_over_dirs(*identity, {s.queue_dir, s.mail_root});
        // The maildrop belongs to postdrop_group, which the service user is not in: only
        // root can give it that group, so it is prepared here; pickup then finds it right.
        if (auto gid = postdrop_gid(s)) {
            std::error_code ec = pickup::ensure_maildrop(s.queue_dir);
            if (!ec) ec = pickup::share_maildrop(s.queue_dir, *gid);
            if (ec) throw std::runtime_error("maildrop " + s.queue_dir + ": " + ec.message());
        }
    } else if (::geteuid() == 0) {
        log::warn("running as root without 'user': mail will be delivered as root; set user = <service account> "
                  "(docs/security.md rule 6)");
        if (s.allow_program_delivery)
            log::warn("allow_program_delivery with root: forward-file programs will run as root "
                      "(docs/security.md rule 13)");
    }

    inbound::table_policy policy(table, s.relay_domains);
    inbound::server server(io.get_executor(), session_config_from(s, hostname),
                           {s.max_sessions, s.max_sessions_per_ip}, policy, queue);
    if (!s.tls_cert_file.empty()) server.set_tls(net::make_server_tls_context(s.tls_cert_file, s.tls_key_file));
    asio::thread_pool crypt_pool(1);  // password hashing, off the event loop (joined on return)
    if (loaded->users) {
        log::info("auth_users_file {}: {} users", s.auth_users_file, loaded->users->size());
        server.set_auth(std::move(loaded->users), crypt_pool.get_executor(), s.auth_failure_limit,
                        s.auth_failure_window);
    }
    std::string cidr_error;
    auto networks = inbound::network_list::parse(s.mynetworks, cidr_error);
    if (!networks) throw std::runtime_error("mynetworks: " + cidr_error);
    server.set_mynetworks(std::move(*networks));
    // Socket activation: systemd's sockets replace all three listen settings; each socket's
    // FileDescriptorName= picks its kind.
    if (auto fds = systemd::listen_fds(); !fds.empty()) {
        log::info("socket activation: {} listener(s) from systemd; listen settings ignored", fds.size());
        for (const auto& l : fds) {
            const auto kind = l.name == "smtps"        ? inbound::listener_kind::smtps
                              : l.name == "submission" ? inbound::listener_kind::submission
                                                       : inbound::listener_kind::smtp;
            if (kind == inbound::listener_kind::smtps && s.tls_cert_file.empty())
                throw std::runtime_error("socket activation: a socket named smtps needs tls_cert_file");
            server.adopt(l.fd, kind);
        }
    } else {
        auto bind_all = [&](const char* setting, const std::vector<std::string>& list, inbound::listener_kind kind) {
            for (const auto& where : list) {
                auto ep = net::parse_endpoint(where);
                if (!ep) throw std::runtime_error(std::string(setting) + ": bad address " + where);
                bound(setting, where, [&] { server.listen(*ep, kind); });
            }
        };
        bind_all("listen", s.listen, inbound::listener_kind::smtp);
        bind_all("listen_tls", s.listen_tls, inbound::listener_kind::smtps);
        bind_all("listen_submission", s.listen_submission, inbound::listener_kind::submission);
    }
    if (identity) {
        drop(*identity);
        log::info("privileges dropped: user={} uid={} gid={}", identity->user, identity->uid, identity->gid);
    }
    queue.start();
    server.start();

    // sendmail(1)'s maildrop and the queue tools' control socket (docs/sendmail.md).
    pickup::service pickup(io.get_executor(),
                           {s.queue_dir, hostname, {s.message_size_limit, s.recipient_limit, s.verp_delimiters},
                            std::chrono::seconds(5), postdrop_gid(s), config::masquerade_rules(s), s.hide_client_hosts},
                           queue);
    pickup.start();
    control::server control(io.get_executor(), s.queue_dir, queue);
    control.start();
    watch_cert_reload(cert_hup, s, server);
    tool_signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        pickup.stop();
        control.stop();
        cert_hup.cancel();
        hup.cancel();  // no reload (and no READY=1 after STOPPING=1) during the grace period
    });

    // Declared after what it samples, so it is destroyed first.
    std::unique_ptr<metrics::http_endpoint> http;
    if (!s.metrics_listen.empty()) {
        auto ep = net::parse_endpoint(s.metrics_listen);
        if (!ep) throw std::runtime_error("metrics_listen: bad address " + s.metrics_listen);
        auto sample = [&queue, &server] {
            metrics::scrape_sample x;
            for (auto& c : queue.census(20)) x.queue.push_back({c.state, c.destination, c.recipients});
            x.messages = queue.queued();
            x.sessions_active = server.active_sessions();
            x.sessions_total = server.sessions_started();
            x.flush_rounds = queue.stats().flushes;
            x.ready = !server.stopping();
            return x;
        };
        auto ready = [&server] { return !server.stopping(); };
        bound("metrics_listen", s.metrics_listen, [&] {
            http = std::make_unique<metrics::http_endpoint>(io.get_executor(), *ep, stats, sample, ready);
        });
        http->start();
        auto where = http->local_endpoint();
        log::info("metrics: listening on {}:{} (/metrics /healthz /readyz)", where.address().to_string(), where.port());
    }

    live_config live{s, table, remote, server};
    watch_reload(hup, load, live);

    asio::steady_timer poll(io);
    watch_signals(io, signals, poll, server, queue, remote, s.shutdown_grace);
    // Paths are the admin's but may hold blanks: logfmt-quoted so key=value parsing holds.
    log::info("postrider started hostname={} queue_dir={} mail_root={}", core::logfmt_value(hostname),
              core::logfmt_value(s.queue_dir), core::logfmt_value(s.mail_root));
    std::string where;
    for (const auto& ep : server.endpoints())
        where += (where.empty() ? "" : " ") + ep.address().to_string() + ":" + std::to_string(ep.port());
    systemd::ready("accepting mail on " + where);
    io.run();
    log::info("postrider stopped");
    return 0;
}

}  // namespace postrider::app
