#include "net/tls_server.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

namespace postrider::net {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_server_tls_context(const std::string& cert_file, const std::string& key_file)
{
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    // Client-initiated renegotiation costs the server a handshake each time (a cheap DoS).
    SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) throw std::runtime_error("tls_cert_file " + cert_file + ": " + ec.message());
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("tls_key_file " + key_file + ": " + ec.message());
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
        throw std::runtime_error("tls_key_file " + key_file + ": does not match the certificate in " + cert_file);
    return ctx;
}

std::string tls_summary(const ssl_st* ssl)
{
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    int alg_bits = 0;
    const int bits = cipher ? SSL_CIPHER_get_bits(cipher, &alg_bits) : 0;
    return std::string(SSL_get_version(ssl)) + " with cipher " + (cipher ? SSL_CIPHER_get_name(cipher) : "none") +
           " (" + std::to_string(bits) + "/" + std::to_string(alg_bits) + " bits)";
}

}  // namespace postrider::net
