// config/settings.hpp: every runtime knob, with its default, as one plain struct.
//
// Owns: the typed configuration and its validation (pure).
// Trust: values come from the admin (file, environment, command line): trusted
//        but fallible; validate() reports mistakes instead of failing later.
// See also: docs/configuration.md (one entry per field, same defaults),
//           app/options.cpp (the only reader of files and flags).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/limits.hpp"
#include "core/masquerade.hpp"

namespace postrider::config {

struct settings {
    // Identity
    std::string hostname;  // empty: the machine's hostname at start-up
    std::string user;      // service user to run as after binding (started as root); empty: stay as started
    std::string group;     // its group; empty: the user's primary group

    // Inbound SMTP
    std::vector<std::string> listen{"127.0.0.1:2525"};
    std::uint64_t message_size_limit = limits::default_message_size;
    std::size_t recipient_limit = limits::default_recipients;
    std::size_t hard_error_limit = limits::default_hard_errors;
    std::chrono::seconds command_timeout = limits::default_command_timeout;
    std::chrono::seconds session_budget = limits::default_session_budget;
    std::size_t max_sessions = limits::default_max_sessions;
    std::size_t max_sessions_per_ip = limits::default_max_sessions_per_ip;

    // Inbound TLS (docs/security.md)
    std::string tls_cert_file;                 // PEM chain, server certificate first; empty: no STARTTLS
    std::string tls_key_file;                  // PEM private key of that certificate
    std::vector<std::string> listen_tls;       // implicit TLS (RFC 8314) address:port list; needs the files
    std::chrono::seconds tls_handshake_timeout{60};

    // SMTP AUTH, submission and relay control (docs/security.md)
    std::string auth_users_file;               // "user:crypt-hash[:senders]" lines; empty: no AUTH
    bool auth_allow_plaintext = false;         // offer AUTH without TLS too (e.g. loopback-only listeners)
    bool auth_sender_login_match = false;      // authenticated users may only use their own sender addresses
    std::vector<std::string> listen_submission;  // RFC 6409 listeners: MAIL only after AUTH
    std::size_t auth_failure_limit = 5;        // failed AUTHs per client address within the window, then 421
    std::chrono::seconds auth_failure_window{600};
    std::chrono::seconds auth_failure_delay{1};  // each wrong password is answered this much later
    std::vector<std::string> mynetworks;       // CIDRs allowed to relay without AUTH; empty: nobody

    // Addressing and local delivery
    std::vector<std::string> local_domains{"localhost"};
    std::string mailbox_table;  // empty: every safe local part at a local domain
    std::string mail_root = "var/mail";
    std::size_t max_received_headers = 100;  // more Received: fields bounce 5.4.6 (qmail's hop limit); 0 = no limit
    std::string recipient_delimiter = "+";   // user+ext: each character separates an extension; empty = none
    std::string alias_table;                 // "name: addr, addr" lines (docs/addressing.md); empty: no aliases
    bool allow_program_delivery = false;     // |command lines in forward files; off: such a file defers
    std::size_t max_forward_depth = 20;      // Delivered-To fields a forwarded message may carry (each forward adds one)

    // Masquerading and host hiding of locally injected mail (docs/addressing.md)
    std::vector<std::string> masquerade_domains;     // user@host.example.com -> user@example.com; "!d" excludes d
    std::vector<std::string> masquerade_exceptions;  // local parts never masqueraded (e.g. root)
    std::vector<std::string> masquerade_classes{"envelope_sender", "header_sender"};  // + header_recipient
    bool hide_client_hosts = false;  // Received of local/authenticated mail names no client host, address or uid
    std::string myorigin;            // domain sendmail gives bare local parts; empty: first of local_domains

    // Queue
    std::string queue_dir = "var/queue";
    std::size_t local_concurrency = 20;
    bool queue_journal = true;               // commit to the write-ahead journal (no files per message)
    std::chrono::seconds max_queue_lifetime{5 * 24 * 3600};
    std::chrono::seconds retry_first{300};   // first retry after a temporary failure, then doubling
    std::chrono::seconds retry_max{3600};    // longest wait between two retries (the doubling's cap)
    std::chrono::seconds delay_warning_time{4 * 3600};  // RFC 3461 NOTIFY=DELAY notice after; 0 = never
    std::string double_bounce_recipient;     // undeliverable bounces go here; empty = log and drop
    std::string verp_delimiters = "+=";      // VERP: owner+rcpt=domain@origin (Postfix default_verp_delimiters)

    // Program delivery: "|command" lines of forward files (docs/addressing.md "Program delivery")
    std::chrono::seconds program_timeout{1000};   // then its process group is killed, temporary failure (Postfix command_time_limit)
    std::size_t program_output_limit = 4096;      // stdout+stderr octets kept for the bounce or deferral reason

    // Local submission (docs/security.md rule 1)
    std::string postdrop_group;   // group of the setgid postrider-postdrop; empty: root and the service user only
    std::string postdrop_helper;  // path of postrider-postdrop; empty: next to the postrider binary

    // Remote delivery (docs/remote-delivery.md)
    std::vector<std::string> relay_domains;  // accepted at RCPT from anyone and relayed onward (backup MX)
    std::string relayhost;                   // "[host]:port" (no MX lookup) or "host:port"; empty: MX per domain
    std::string relayhost_username;          // AUTH PLAIN/LOGIN to the relayhost (over TLS only); empty: no AUTH
    std::string relayhost_password_file;     // first line = the password; not readable by others
    std::string relayhost_tls_ca_file;       // PEM CAs: relayhost TLS mandatory + verified; empty: opportunistic
    std::string transport_table;             // file of "domain nexthop" routes; empty: none
    std::string remote_tls_policy = "may";   // none | may | encrypt | verify | secure (Postfix smtp_tls_security_level)
    std::string remote_tls_ca_file;          // PEM CAs for the verify and secure levels
    std::string tls_policy_table;            // file of "domain level" lines; empty: remote_tls_policy for all
    std::vector<std::string> dns_servers;    // "ip:port" list; empty: /etc/resolv.conf
    std::chrono::seconds dns_timeout{5};     // per try; 2 tries per server (c-ares doubles the 2nd)
    std::uint32_t remote_smtp_port = 25;
    std::size_t remote_concurrency = 20;             // connections at once, all destinations
    std::size_t remote_destination_concurrency = 5;  // connections at once to one domain
    std::chrono::seconds remote_connect_timeout{30};
    std::chrono::seconds remote_command_timeout{300};  // RFC 5321 4.5.3.2: 5 minutes
    std::chrono::seconds remote_data_timeout{600};     // RFC 5321 4.5.3.2.6: 10 minutes
    std::chrono::seconds remote_host_down_time{300};   // skip an address that failed, this long
    std::chrono::seconds remote_idle_time{5};          // keep idle connections for reuse

    // Logging
    std::string log_format = "text";
    std::string log_level = "info";
    std::string log_target = "stderr";  // stderr | journal

    // Metrics and health (metrics/http.hpp)
    std::string metrics_listen;  // "127.0.0.1:9125"; empty = no HTTP endpoint

    // Lifecycle
    std::chrono::seconds shutdown_grace{10};  // SIGTERM: time in-flight sessions and deliveries get

    friend bool operator==(const settings&, const settings&) = default;  // SIGHUP: what changed
};

// masquerade_rules - the masquerade_* settings as core::masquerade_rules (lower case).
core::masquerade_rules masquerade_rules(const settings& s);

// validate - every problem found, one human-readable sentence each; empty means valid.
std::vector<std::string> validate(const settings& s);

}  // namespace postrider::config
