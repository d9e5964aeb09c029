// inbound/trace_header.hpp: the Received: header we prepend to every accepted message.
//
// Owns: trace header text (RFC 5321 4.4, RFC 5322 3.6.7), with protocol names per RFC 3848.
// Trust: helo and addresses are already validated by smtp/ parsers; they are
//        still escaped here so a header can never be split by peer text.
// PURE: the time is a parameter.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace postrider::inbound {

struct trace_info {
    std::string_view helo;       // client's HELO/EHLO argument
    std::string_view client_ip;  // textual peer address
    std::string_view our_host;   // our hostname
    std::string_view protocol;   // SMTP, ESMTP, ...
    std::string_view queue_id;
    std::string_view single_rcpt;  // set only when the message has exactly one recipient
    std::string_view tls{};        // net::tls_summary() of the session, empty without TLS
    bool hide_client = false;      // hide_client_hosts: no "from HELO ([ip])" clause
};

// rfc5322_date - "Wed, 25 Nov 2026 01:04:05 +0000" for a UTC time.
std::string rfc5322_date(std::time_t when);
// received_header - one folded Received: header, CRLF-terminated.
std::string received_header(const trace_info& t, std::time_t when);

}  // namespace postrider::inbound
