#include "app/options.hpp"

#include <boost/program_options.hpp>

#include <fstream>
#include <functional>
#include <sstream>

#include "config/units.hpp"
#include "inbound/cidr.hpp"

namespace postrider::app {

namespace po = boost::program_options;

namespace {

using values = std::vector<std::string>;
using apply_fn = std::function<std::string(config::settings&, const values&)>;

struct knob {
    const char* name;
    const char* help;
    apply_fn apply;  // returns an error sentence, or empty
};

// split_list - "a, b c" and repeated lines both become {a, b, c}.
values split_list(const values& in)
{
    values out;
    for (const auto& v : in) {
        std::string item;
        for (char c : v + ",") {
            if (c == ',' || c == ' ' || c == '\t') {
                if (!item.empty()) out.push_back(item);
                item.clear();
            } else {
                item += c;
            }
        }
    }
    return out;
}

apply_fn text(std::string config::settings::*field)
{
    return [field](config::settings& s, const values& v) -> std::string {
        if (v.size() != 1) return "given more than once";
        s.*field = v.front();
        return {};
    };
}

apply_fn list(std::vector<std::string> config::settings::*field)
{
    return [field](config::settings& s, const values& v) -> std::string {
        s.*field = split_list(v);
        return {};
    };
}

apply_fn flag(bool config::settings::*field)
{
    return [field](config::settings& s, const values& v) -> std::string {
        if (v.size() != 1) return "given more than once";
        const auto& x = v.front();
        if (x == "yes" || x == "true" || x == "1") s.*field = true;
        else if (x == "no" || x == "false" || x == "0") s.*field = false;
        else return "'" + x + "' is not yes or no";
        return {};
    };
}

template <class T>
apply_fn size(T config::settings::*field)
{
    return [field](config::settings& s, const values& v) -> std::string {
        if (v.size() != 1) return "given more than once";
        auto n = config::parse_size(v.front());
        if (!n) return "'" + v.front() + "' is not a number (units k, M, G allowed)";
        s.*field = static_cast<T>(*n);
        return {};
    };
}

apply_fn duration(std::chrono::seconds config::settings::*field)
{
    return [field](config::settings& s, const values& v) -> std::string {
        if (v.size() != 1) return "given more than once";
        auto d = config::parse_duration(v.front());
        if (!d) return "'" + v.front() + "' is not a duration (e.g. 300, 300s, 5m, 2h, 5d)";
        s.*field = *d;
        return {};
    };
}

const std::vector<knob>& knobs()
{
    using S = config::settings;
    static const std::vector<knob> all = {
        {"hostname", "our name in greetings and Received headers (default: the machine's)", text(&S::hostname)},
        {"user", "service user to switch to after binding the listeners (started as root)", text(&S::user)},
        {"group", "service group (default: the user's primary group)", text(&S::group)},
        {"listen", "SMTP listen address:port, repeatable", list(&S::listen)},
        {"message_size_limit", "largest message accepted, octets", size(&S::message_size_limit)},
        {"recipient_limit", "most recipients per message", size(&S::recipient_limit)},
        {"hard_error_limit", "errors before a session is closed", size(&S::hard_error_limit)},
        {"command_timeout", "idle time allowed per command", duration(&S::command_timeout)},
        {"session_budget", "total time allowed per session", duration(&S::session_budget)},
        {"max_sessions", "concurrent inbound sessions", size(&S::max_sessions)},
        {"max_sessions_per_ip", "concurrent inbound sessions per client address", size(&S::max_sessions_per_ip)},
        {"tls_cert_file", "PEM certificate chain for STARTTLS and listen_tls (empty: no TLS)", text(&S::tls_cert_file)},
        {"tls_key_file", "PEM private key for tls_cert_file", text(&S::tls_key_file)},
        {"listen_tls", "implicit TLS (SMTPS, RFC 8314) listen address:port, repeatable", list(&S::listen_tls)},
        {"tls_handshake_timeout", "time a client gets to finish the TLS handshake", duration(&S::tls_handshake_timeout)},
        {"auth_users_file", "file of user:crypt-hash[:senders] lines for SMTP AUTH (empty: no AUTH)",
         text(&S::auth_users_file)},
        {"auth_allow_plaintext", "yes: offer AUTH without TLS too (only for trusted paths such as loopback)",
         flag(&S::auth_allow_plaintext)},
        {"auth_sender_login_match", "yes: an authenticated user may only use its own sender addresses",
         flag(&S::auth_sender_login_match)},
        {"listen_submission", "submission (RFC 6409) listen address:port, repeatable; requires AUTH",
         list(&S::listen_submission)},
        {"auth_failure_limit", "failed AUTH attempts per client address within auth_failure_window, then 421",
         size(&S::auth_failure_limit)},
        {"auth_failure_window", "how long failed AUTH attempts are remembered", duration(&S::auth_failure_window)},
        {"auth_failure_delay", "pause before answering a failed AUTH", duration(&S::auth_failure_delay)},
        {"mynetworks", "client networks (CIDR, IPv4/IPv6) allowed to relay without AUTH, list (empty: none)",
         list(&S::mynetworks)},
        {"local_domains", "domains delivered here, list", list(&S::local_domains)},
        {"mailbox_table", "file mapping addresses to maildirs (empty: any safe name)", text(&S::mailbox_table)},
        {"mail_root", "directory holding the maildirs", text(&S::mail_root)},
        {"max_received_headers", "more Received headers than this bounce as a mail loop, 5.4.6 (0: no limit)",
         size(&S::max_received_headers)},
        {"recipient_delimiter", "characters that start an address extension, user+ext (empty: none)",
         text(&S::recipient_delimiter)},
        {"alias_table", "file of aliases, name: address, ... (empty: none)", text(&S::alias_table)},
        {"allow_program_delivery", "yes: |command lines in forward files run programs (no: such files defer)",
         flag(&S::allow_program_delivery)},
        {"max_forward_depth", "a message forwarded this many times (Delivered-To fields) bounces as a loop, 5.4.6",
         size(&S::max_forward_depth)},
        {"masquerade_domains", "list: sender host.d.example -> d.example for locally injected mail; !d excludes d",
         list(&S::masquerade_domains)},
        {"masquerade_exceptions", "list: local parts never masqueraded (e.g. root)", list(&S::masquerade_exceptions)},
        {"masquerade_classes", "list: envelope_sender, header_sender, header_recipient", list(&S::masquerade_classes)},
        {"hide_client_hosts", "yes: Received headers of local and authenticated mail name no client host",
         flag(&S::hide_client_hosts)},
        {"myorigin", "domain sendmail appends to bare local parts (empty: first of local_domains)", text(&S::myorigin)},
        {"queue_dir", "directory holding the queue", text(&S::queue_dir)},
        {"local_concurrency", "concurrent local deliveries", size(&S::local_concurrency)},
        {"queue_journal", "yes: commit messages to the write-ahead journal; no: two files per message",
         flag(&S::queue_journal)},
        {"max_queue_lifetime", "how long a message may stay queued before it bounces", duration(&S::max_queue_lifetime)},
        {"retry_first", "wait before the first retry after a temporary failure (doubles after each)", duration(&S::retry_first)},
        {"retry_max", "longest wait between two retries", duration(&S::retry_max)},
        {"delay_warning_time", "send a NOTIFY=DELAY notice once a recipient is deferred this long (0: never)",
         duration(&S::delay_warning_time)},
        {"double_bounce_recipient", "where undeliverable bounces go (empty: log and drop)",
         text(&S::double_bounce_recipient)},
        {"verp_delimiters", "VERP delimiters: sender owner@d to joe@x becomes owner+joe=x@d", text(&S::verp_delimiters)},
        {"program_timeout", "a delivery program running longer is killed (with its process group); temporary failure",
         duration(&S::program_timeout)},
        {"program_output_limit", "octets of a delivery program's output kept for the bounce or deferral reason",
         size(&S::program_output_limit)},
        {"postdrop_group", "group of the setgid postrider-postdrop helper (empty: no user submission)",
         text(&S::postdrop_group)},
        {"postdrop_helper", "path of postrider-postdrop (empty: next to the postrider binary)", text(&S::postdrop_helper)},
        {"relay_domains", "domains accepted from anyone and relayed onward (backup MX), list", list(&S::relay_domains)},
        {"relayhost", "send all remote mail via [host]:port (no MX lookup) or host:port", text(&S::relayhost)},
        {"relayhost_username", "AUTH PLAIN/LOGIN user for the relayhost (sent over TLS only)",
         text(&S::relayhost_username)},
        {"relayhost_password_file", "file whose first line is the relayhost password (not world-readable)",
         text(&S::relayhost_password_file)},
        {"relayhost_tls_ca_file", "PEM CA file: require TLS to the relayhost and verify its certificate",
         text(&S::relayhost_tls_ca_file)},
        {"transport_table", "file of per-domain routes: domain  host[:port] | [host]:port", text(&S::transport_table)},
        {"remote_tls_policy", "TLS to remote hosts: none, may (opportunistic), encrypt, verify or secure",
         text(&S::remote_tls_policy)},
        {"remote_tls_ca_file", "PEM CA file for the verify and secure TLS levels", text(&S::remote_tls_ca_file)},
        {"tls_policy_table", "file of per-domain TLS levels: domain  none|may|encrypt|verify|secure",
         text(&S::tls_policy_table)},
        {"dns_servers", "DNS servers ip:port, list (empty: /etc/resolv.conf)", list(&S::dns_servers)},
        {"dns_timeout", "wait for a DNS answer, per try (2 tries per server)", duration(&S::dns_timeout)},
        {"remote_smtp_port", "TCP port of remote SMTP servers", size(&S::remote_smtp_port)},
        {"remote_concurrency", "concurrent outbound SMTP connections", size(&S::remote_concurrency)},
        {"remote_destination_concurrency", "concurrent outbound connections per destination domain",
         size(&S::remote_destination_concurrency)},
        {"remote_connect_timeout", "TCP connect and TLS handshake timeout", duration(&S::remote_connect_timeout)},
        {"remote_command_timeout", "wait for a remote reply to a command", duration(&S::remote_command_timeout)},
        {"remote_data_timeout", "wait per message data block and for the final reply", duration(&S::remote_data_timeout)},
        {"remote_host_down_time", "skip a remote address this long after it failed (0: never skip)",
         duration(&S::remote_host_down_time)},
        {"remote_idle_time", "keep an idle outbound connection this long for reuse (0: close)",
         duration(&S::remote_idle_time)},
        {"log_format", "text or json", text(&S::log_format)},
        {"log_level", "debug, info, warn or error", text(&S::log_level)},
        {"log_target", "stderr or journal (systemd journal, with POSTRIDER_ID fields)", text(&S::log_target)},
        {"metrics_listen", "address:port for /metrics, /healthz, /readyz (empty: off; keep it on loopback)",
         text(&S::metrics_listen)},
        {"shutdown_grace", "after SIGTERM, time in-flight sessions and deliveries get before exit",
         duration(&S::shutdown_grace)},
    };
    return all;
}

po::options_description describe_settings()
{
    po::options_description desc("Settings (file: name = value; environment: POSTRIDER_NAME)");
    for (const auto& k : knobs())
        desc.add_options()(k.name, po::value<values>()->multitoken(), k.help);
    return desc;
}

// environment_name - POSTRIDER_LISTEN -> listen; other variables are ignored.
std::function<std::string(std::string)> environment_mapper(const po::options_description& desc)
{
    return [&desc](std::string var) -> std::string {
        const std::string prefix = "POSTRIDER_";
        if (var.rfind(prefix, 0) != 0) return {};
        std::string name;
        for (char c : var.substr(prefix.size())) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return desc.find_nothrow(name, false) ? name : std::string{};
    };
}

// store_sources - flags first, then environment, then file: the first value stored wins.
void store_sources(const std::vector<std::string>& args, loaded_options& out, po::variables_map& vm)
{
    po::options_description generic("Usage: postrider serve|check-config [options]");
    generic.add_options()("help,h", "print this help")("config,c", po::value<std::string>(), "configuration file");
    auto settings = describe_settings();
    po::options_description all;
    all.add(generic).add(settings);

    po::store(po::command_line_parser(args).options(all).run(), vm);
    po::store(po::parse_environment(settings, environment_mapper(settings)), vm);
    if (vm.count("config")) {
        out.config_file = vm["config"].as<std::string>();
        std::ifstream file(out.config_file);
        if (!file) throw std::runtime_error("cannot read configuration file " + out.config_file);
        po::store(po::parse_config_file(file, settings, false), vm);
    }
    out.help = vm.count("help") > 0;
    std::ostringstream help;
    help << all;
    out.help_text = help.str();
}

}  // namespace

loaded_options load_options(const std::vector<std::string>& args)
{
    loaded_options out;
    po::variables_map vm;
    try {
        store_sources(args, out, vm);
    } catch (const std::exception& e) {
        out.errors.push_back(e.what());
        return out;
    }
    for (const auto& k : knobs()) {
        if (!vm.count(k.name)) continue;
        auto error = k.apply(out.settings, vm[k.name].as<values>());
        if (!error.empty()) out.errors.push_back(std::string(k.name) + ": " + error);
    }
    for (auto& e : config::validate(out.settings)) out.errors.push_back(std::move(e));
    // The CIDR parser lives with its user (inbound); check-config still reports a bad spec.
    std::string cidr_error;
    if (!inbound::network_list::parse(out.settings.mynetworks, cidr_error))
        out.errors.push_back("mynetworks: " + cidr_error);
    return out;
}

}  // namespace postrider::app
