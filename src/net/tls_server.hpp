// net/tls_server.hpp: the server side of TLS (STARTTLS and implicit TLS listeners).
//
// Owns: building the server ssl::context from the admin's PEM files, and the
//       one-line description of a finished handshake (logs, Received header).
// Trust: the files are the admin's (trusted, fallible: errors throw at start-up
//        or at reload, and a failed reload keeps the old context).
// Standards: RFC 3207, RFC 8314; TLS 1.2 and 1.3 only (RFC 8996 retired 1.0/1.1).
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

struct ssl_st;

namespace postrider::net {

// make_server_tls_context - chain + key PEM files; throws std::runtime_error naming the file.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file);

// tls_summary - "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", Postfix's wording.
std::string tls_summary(const ssl_st* ssl);

}  // namespace postrider::net
