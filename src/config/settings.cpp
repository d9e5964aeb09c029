#include "config/settings.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string_view>

#include "core/verp.hpp"

namespace postrider::config {
namespace {

// valid_listen - "host:port" or "[v6]:port" with a port in 0..65535.
bool valid_listen(std::string_view s)
{
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) return false;
    auto port = s.substr(colon + 1);
    if (port.size() > 5) return false;
    unsigned value = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    auto host = s.substr(0, colon);
    if (host.front() == '[' && host.back() != ']') return false;
    return value <= 65535;  // 0: any free port (tests read the bound port from the log)
}

// valid_address - local@domain with both parts non-empty and no space, control, '<' or '>'.
bool valid_address(std::string_view s)
{
    auto at = s.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == s.size() || s.size() > 254) return false;
    for (unsigned char c : s)
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>') return false;
    return true;
}

// valid_nexthop - Postfix relayhost syntax: host, host:port, [host], [host]:port (port 1-65535).
bool valid_nexthop(std::string_view s)
{
    if (s.empty()) return false;
    std::string_view host = s, port;
    if (s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        host = s.substr(1, close - 1);
        if (close + 1 < s.size()) {
            if (s[close + 1] != ':') return false;
            port = s.substr(close + 2);
            if (port.empty()) return false;
        }
    } else if (auto colon = s.rfind(':'); colon != std::string_view::npos) {
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
        if (port.empty() || host.empty()) return false;
    }
    unsigned value = 0;
    for (char c : port) {
        if (c < '0' || c > '9' || port.size() > 5) return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!port.empty() && (value == 0 || value > 65535)) return false;
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == ':')) return false;
    return true;
}

// valid_domain - letters, digits, '-' and '.' labels of 1-63 octets, at most 253 octets.
bool valid_domain(std::string_view d)
{
    if (d.empty() || d.size() > 253 || d.front() == '.' || d.back() == '.' || d.find("..") != d.npos) return false;
    std::size_t label = 0;
    for (char c : d) {
        label = c == '.' ? 0 : label + 1;
        if (label > 63 || !(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
    }
    return true;
}

}  // namespace

core::masquerade_rules masquerade_rules(const settings& s)
{
    auto lower = [](std::string v) {
        for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return v;
    };
    core::masquerade_rules r;
    for (const auto& d : s.masquerade_domains) r.domains.push_back(lower(d));
    for (const auto& l : s.masquerade_exceptions) r.exceptions.push_back(lower(l));
    r.classes = 0;
    for (const auto& c : s.masquerade_classes) {
        if (c == "envelope_sender") r.classes |= core::masq_envelope_sender;
        if (c == "header_sender") r.classes |= core::masq_header_sender;
        if (c == "header_recipient") r.classes |= core::masq_header_recipient;
    }
    return r;
}

std::vector<std::string> validate(const settings& s)
{
    std::vector<std::string> errors;
    if (s.user == "root") errors.push_back("user: must not be root (the point is to stop being root)");
    if (!s.group.empty() && s.user.empty()) errors.push_back("group: needs user");
    if (s.listen.empty()) errors.push_back("listen: at least one address:port is needed");
    for (const auto& l : s.listen)
        if (!valid_listen(l))
            errors.push_back("listen: '" + l + "' is not host:port or [ipv6]:port with port 0-65535");
    if (s.message_size_limit < 1024 || s.message_size_limit > limits::max_message_size)
        errors.push_back("message_size_limit: must be between 1024 octets and 60M");
    // RFC 5321 4.5.3.1.8: a server must accept at least 100 recipients.
    if (s.recipient_limit < 100) errors.push_back("recipient_limit: RFC 5321 requires at least 100");
    if (s.hard_error_limit < 1) errors.push_back("hard_error_limit: must be at least 1");
    if (s.command_timeout.count() < 1) errors.push_back("command_timeout: must be at least 1 second");
    if (s.session_budget < s.command_timeout)
        errors.push_back("session_budget: must not be shorter than command_timeout");
    if (s.max_sessions < 1) errors.push_back("max_sessions: must be at least 1");
    if (s.max_sessions_per_ip < 1 || s.max_sessions_per_ip > s.max_sessions)
        errors.push_back("max_sessions_per_ip: must be between 1 and max_sessions");
    if (s.tls_cert_file.empty() != s.tls_key_file.empty())
        errors.push_back("tls_cert_file, tls_key_file: set both or neither");
    for (const auto& l : s.listen_tls)
        if (!valid_listen(l))
            errors.push_back("listen_tls: '" + l + "' is not host:port or [ipv6]:port with port 0-65535");
    if (!s.listen_tls.empty() && s.tls_cert_file.empty())
        errors.push_back("listen_tls: needs tls_cert_file and tls_key_file");
    if (s.tls_handshake_timeout.count() < 1) errors.push_back("tls_handshake_timeout: must be at least 1 second");
    for (const auto& l : s.listen_submission)
        if (!valid_listen(l))
            errors.push_back("listen_submission: '" + l + "' is not host:port or [ipv6]:port with port 0-65535");
    if (!s.listen_submission.empty() && s.auth_users_file.empty())
        errors.push_back("listen_submission: needs auth_users_file (submission requires AUTH)");
    if (s.auth_failure_limit < 1) errors.push_back("auth_failure_limit: must be at least 1");
    if (s.auth_failure_window.count() < 1) errors.push_back("auth_failure_window: must be at least 1 second");
    if (s.auth_failure_delay.count() < 0) errors.push_back("auth_failure_delay: must not be negative");
    if (s.local_domains.empty()) errors.push_back("local_domains: at least one domain is needed");
    if (s.queue_dir.empty()) errors.push_back("queue_dir: must not be empty");
    if (s.mail_root.empty()) errors.push_back("mail_root: must not be empty");
    if (s.local_concurrency < 1 || s.local_concurrency > 1000)
        errors.push_back("local_concurrency: must be between 1 and 1000");
    if (s.max_queue_lifetime.count() < 60)
        errors.push_back("max_queue_lifetime: must be at least 60 seconds");
    if (s.retry_first.count() < 1) errors.push_back("retry_first: must be at least 1 second");
    if (s.retry_max < s.retry_first) errors.push_back("retry_max: must not be shorter than retry_first");
    if (s.delay_warning_time.count() < 0) errors.push_back("delay_warning_time: must not be negative");
    if (!s.double_bounce_recipient.empty() && !valid_address(s.double_bounce_recipient))
        errors.push_back("double_bounce_recipient: must be empty or an address local@domain");
    if (s.recipient_delimiter.find_first_not_of("+-=_") != std::string::npos)
        errors.push_back("recipient_delimiter: only the characters \"+-=_\" may start an extension");
    if (s.max_forward_depth < 1 || s.max_forward_depth > 1000)
        errors.push_back("max_forward_depth: must be between 1 and 1000");
    if (!core::valid_verp_delimiters(s.verp_delimiters))
        errors.push_back("verp_delimiters: must be two characters from \"-=+\"");
    for (const auto& d : s.masquerade_domains)
        if (!valid_domain(d.starts_with('!') ? std::string_view(d).substr(1) : std::string_view(d)))
            errors.push_back("masquerade_domains: '" + d + "' is not a domain name (or !domain)");
    for (const auto& l : s.masquerade_exceptions)
        if (l.empty() || l.find_first_of("@ \t\"") != std::string::npos)
            errors.push_back("masquerade_exceptions: '" + l + "' is not a local part");
    for (const auto& c : s.masquerade_classes)
        if (c != "envelope_sender" && c != "header_sender" && c != "header_recipient")
            errors.push_back("masquerade_classes: '" + c + "' is not envelope_sender, header_sender or header_recipient");
    if (!s.myorigin.empty() && !valid_domain(s.myorigin))
        errors.push_back("myorigin: '" + s.myorigin + "' is not a domain name");
    if (s.program_timeout.count() < 1) errors.push_back("program_timeout: must be at least 1 second");
    if (s.program_output_limit > 65536) errors.push_back("program_output_limit: must be at most 64k");
    for (char c : s.postdrop_group)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
            errors.push_back("postdrop_group: must be a group name (letters, digits, - and _)");
            break;
        }
    if (s.remote_smtp_port == 0 || s.remote_smtp_port > 65535) errors.push_back("remote_smtp_port: must be between 1 and 65535");
    if (s.remote_concurrency < 1 || s.remote_concurrency > 100000)
        errors.push_back("remote_concurrency: must be between 1 and 100000");
    if (s.remote_destination_concurrency < 1 || s.remote_destination_concurrency > s.remote_concurrency)
        errors.push_back("remote_destination_concurrency: must be between 1 and remote_concurrency");
    if (s.remote_connect_timeout.count() < 1 || s.remote_command_timeout.count() < 1 ||
        s.remote_data_timeout.count() < 1)
        errors.push_back("remote_*_timeout: must be at least 1 second");
    if (s.dns_timeout.count() < 1 || s.dns_timeout.count() > 60) errors.push_back("dns_timeout: must be between 1s and 60s");
    for (const auto& d : s.dns_servers)
        if (!valid_listen(d) || d.ends_with(":0"))
            errors.push_back("dns_servers: '" + d + "' is not ip:port or [ipv6]:port");
    if (!s.relayhost.empty() && !valid_nexthop(s.relayhost))
        errors.push_back("relayhost: '" + s.relayhost + "' is not host, host:port, [host] or [host]:port");
    // AUTH needs all three: a relayhost to send to, a name and a password file.
    if (!s.relayhost_username.empty() && (s.relayhost.empty() || s.relayhost_password_file.empty()))
        errors.push_back("relayhost_username: needs relayhost and relayhost_password_file");
    if (!s.relayhost_tls_ca_file.empty() && s.relayhost.empty())
        errors.push_back("relayhost_tls_ca_file: needs relayhost");
    static constexpr std::string_view tls_levels[] = {"none", "may", "encrypt", "verify", "secure"};
    if (std::find(std::begin(tls_levels), std::end(tls_levels), s.remote_tls_policy) == std::end(tls_levels))
        errors.push_back("remote_tls_policy: must be none, may, encrypt, verify or secure");
    else if ((s.remote_tls_policy == "verify" || s.remote_tls_policy == "secure") && s.remote_tls_ca_file.empty())
        errors.push_back("remote_tls_policy: " + s.remote_tls_policy + " needs remote_tls_ca_file");
    if (s.relayhost_username.empty() && !s.relayhost_password_file.empty())
        errors.push_back("relayhost_password_file: needs relayhost_username");
    for (char c : s.relayhost_username)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            errors.push_back("relayhost_username: must not contain control characters");
            break;
        }
    if (s.log_format != "text" && s.log_format != "json")
        errors.push_back("log_format: must be text or json");
    if (s.log_level != "debug" && s.log_level != "info" && s.log_level != "warn" && s.log_level != "error")
        errors.push_back("log_level: must be debug, info, warn or error");
 if (!s.metrics_listen.empty() && !valid_listen(s.metrics_listen))
        errors.push_back("metrics_listen: '" + s.metrics_listen + "' is not host:port or [ipv6]:port");
    if (s.log_target != "stderr" && s.log_target != "journal")
        errors.push_back("log_target: must be stderr or journal");
    if (s.shutdown_grace.count() < 0 || s.shutdown_grace.count() > 3600)
        errors.push_back("shutdown_grace: must be between 0 and 1h");
    return errors;
}

}  // namespace postrider::config
