// outbound/client.cpp: the SMTP client coroutine steps (see client.hpp).
#include "outbound/client.hpp"

#include "core/escape.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/ssl.h>

#include <array>

namespace postrider::outbound {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t body_block = 64 * 1024;

// default_status - "x.0.0" for a server that sends no enhanced status (RFC 3463 3.1).
std::string default_status(int code) { return std::to_string(code / 100) + ".0.0"; }

// endpoint_text - "127.0.0.5:25" / "[::1]:25".
std::string endpoint_text(const asio::ip::tcp::endpoint& ep)
{
    auto a = ep.address().to_string();
    return (ep.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(ep.port());
}

// result - a plain function, not brace-init inside a coroutine (g++ 12, see pool.cpp).
rcpt_result result(rcpt_kind k, std::string status, std::string reason)
{
    rcpt_result r;
    r.kind = k;
    r.status = std::move(status);
    r.reason = std::move(reason);
    return r;
}

}  // namespace

smtp_client::smtp_client(asio::any_io_executor ex, asio::ssl::context& tls, const client_settings& s)
    : stream_(ex, tls),
      watch_(ex, [this] {
          boost::system::error_code ignored;
          stream_.next_layer().cancel(ignored);
      }),
      s_(s)
{
}

asio::awaitable<bool> smtp_client::write(std::string_view data, deadline by)
{
    // One timer per connection bounds every wait (net::deadline_watch), not one per write.
    watch_.expire_at(by);
    auto w = encrypted_ ? co_await asio::async_write(stream_, asio::buffer(data), tok)
                        : co_await asio::async_write(stream_.next_layer(), asio::buffer(data), tok);
    watch_.disarm();  // a TLS handshake that follows has its own deadline
    const auto ec = std::get<0>(w);
    if (ec) {
        error_ = watch_.expired() ? "timeout" : core::escape(ec.message());
        usable_ = false;
        co_return false;
    }
    co_return true;
}

asio::awaitable<std::optional<remote_reply>> smtp_client::read_reply(deadline by)
{
    std::array<char, 4096> buf{};
    for (;;) {
        if (auto r = parser_.next()) co_return r;
        if (parser_.error() != reply_error::none) {
            error_ = describe(parser_.error());
            usable_ = false;
            co_return std::nullopt;
        }
        watch_.expire_at(by);
        auto got = encrypted_ ? co_await stream_.async_read_some(asio::buffer(buf), tok)
                              : co_await stream_.next_layer().async_read_some(asio::buffer(buf), tok);
        watch_.disarm();
        const auto ec = std::get<0>(got);
        if (ec) {
            error_ = watch_.expired()                                                        ? "timeout"
                     : ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ? "lost connection"
                                                                                           : core::escape(ec.message());
            usable_ = false;
            co_return std::nullopt;
        }
        parser_.feed(std::string_view(buf.data(), std::get<1>(got)));
    }
}

asio::awaitable<open_result> smtp_client::open(asio::ip::tcp::endpoint ep, std::string host, tls_request tls,
                                               const sasl_credentials* auth)
{
    tls_ = std::move(tls);
    host_ = std::move(host);
    relay_ = host_ + "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
    open_result res;
    asio::steady_timer timer(co_await asio::this_coro::executor, s_.connect_timeout);
    auto c = co_await (stream_.next_layer().async_connect(ep, tok) || timer.async_wait(tok));
    std::string why;
    if (c.index() == 1) {
        why = "timeout";
    } else if (auto [ec] = std::get<0>(c); ec) {
        why = core::escape(ec.message());
    }
    if (!why.empty()) {
        res.reason = "connect to " + host_ + "[" + endpoint_text(ep) + "]: " + why;
        co_return res;
    }
    usable_ = true;
    auto greeting = co_await read_reply(after(s_.command_timeout));
    if (!greeting || !greeting->positive()) {
        res.reason = "host " + relay_ + (greeting ? " refused to talk to me: " + greeting->diagnostic()
                                                  : " greeting failed: " + error_);
        usable_ = false;
        co_return res;
    }
    auto hello_reply = co_await hello();
    if (!hello_reply) {
        res.reason = "host " + relay_ + " EHLO/HELO failed: " + error_;
        usable_ = false;
        co_return res;
    }
    const bool required = mandatory(tls_.level);
    if (required && !ext_.starttls) {
        // Postfix: "TLS is required, but was not offered by host" (4.7.4); nothing is sent.
        res.status = open_status::tls_failed;
        res.code = "4.7.4";
        res.reason = "host " + relay_ + " does not offer STARTTLS, and TLS is required (tls policy " +
                     std::string(level_name(tls_.level)) + ")";
        usable_ = false;
        co_return res;
    }
    const bool wanted = required || (tls_.level == tls_level::may && s_.starttls);
    if (wanted && ext_.starttls && !co_await starttls()) {
        res.status = open_status::tls_failed;
        res.code = "4.7.5";
        res.reason = "host " + relay_ + " STARTTLS failed: " + error_;
        usable_ = false;
        co_return res;
    }
    if (auth && !co_await authenticate(*auth)) {
        res.status = open_status::auth_failed;
        res.reason = "host " + relay_ + " AUTH failed: " + error_;
        usable_ = false;
        co_return res;
    }
    res.status = open_status::ok;
    co_return res;
}

asio::awaitable<std::optional<remote_reply>> smtp_client::hello()
{
    if (!co_await write("EHLO " + s_.helo_name + "\r\n", after(s_.command_timeout))) co_return std::nullopt;
    auto r = co_await read_reply(after(s_.command_timeout));
    if (!r) co_return std::nullopt;
    if (r->positive()) {
        ext_ = parse_ehlo(*r);
        co_return r;
    }
    if (!r->permanent()) {
        error_ = r->diagnostic();
        co_return std::nullopt;
    }
    // RFC 5321 3.2: a server that does not know EHLO answers 5xx; fall back to HELO (no extensions).
    ext_ = {};
    if (!co_await write("HELO " + s_.helo_name + "\r\n", after(s_.command_timeout))) co_return std::nullopt;
    r = co_await read_reply(after(s_.command_timeout));
    if (!r) co_return std::nullopt;
    if (!r->positive()) {
        error_ = r->diagnostic();
        co_return std::nullopt;
    }
    co_return r;
}

asio::awaitable<bool> smtp_client::starttls()
{
    if (!co_await write("STARTTLS\r\n", after(s_.command_timeout))) co_return false;
    auto r = co_await read_reply(after(s_.command_timeout));
    if (!r) co_return false;
    if (r->code != 220) {
        // Refused: carry on in plaintext on this connection (opportunistic TLS), unless TLS is required.
        const bool required = mandatory(tls_.level);
        if (required) error_ = "STARTTLS refused: " + r->diagnostic();
        co_return !required;
    }
    // RFC 3207 / CVE-2011-0411: anything the server sent after its 220 would be
    // read as if it came through TLS. Refuse rather than guess.
    if (parser_.has_partial() || parser_.pending() > 0) {
        error_ = "server sent data after STARTTLS 220";
        co_return false;
    }
    SSL_set_tlsext_host_name(stream_.native_handle(), host_.c_str());
    if (verifies(tls_.level)) {
        // The context holds the CAs (remote_tls_ca_file or relayhost_tls_ca_file) but verifies
        // nobody by default; only this stream checks the chain and that the certificate names
        // the policy's name (the MX host for verify, the next hop for secure).
        stream_.set_verify_mode(asio::ssl::verify_peer);
        stream_.set_verify_callback(asio::ssl::host_name_verification(tls_.match));
    }
    asio::steady_timer timer(co_await asio::this_coro::executor, s_.connect_timeout);
    auto h = co_await (stream_.async_handshake(asio::ssl::stream_base::client, tok) || timer.async_wait(tok));
    if (h.index() == 1) {
        error_ = "TLS handshake timeout";
        co_return false;
    }
    if (auto [ec] = std::get<0>(h); ec) {
        error_ = "TLS handshake: " + core::escape(ec.message());
        co_return false;
    }
    encrypted_ = true;
    const SSL* ssl = stream_.native_handle();
    tls_info_ = std::string(SSL_get_version(ssl)) + " with cipher " + SSL_get_cipher_name(ssl);
    // RFC 3207 4.2: forget what we learned before TLS and ask again.
    auto again = co_await hello();
    if (!again) co_return false;
    co_return true;
}

asio::awaitable<bool> smtp_client::authenticate(const sasl_credentials& c)
{
    // Credentials never cross an unencrypted connection, whatever the server offers.
    if (!encrypted_) {
        error_ = "no TLS: credentials not sent";
        co_return false;
    }
    if (!ext_.auth_plain && !ext_.auth_login) {
        error_ = "server offers neither AUTH PLAIN nor AUTH LOGIN";
        co_return false;
    }
    // LOGIN: two 334 challenges (username, password); PLAIN: one initial response.
    std::vector<std::string> steps;
    if (ext_.auth_plain) {
        steps.push_back(auth_plain_command(c));
    } else {
        steps.push_back("AUTH LOGIN\r\n");
        steps.push_back(auth_login_response(c.username));
        steps.push_back(auth_login_response(c.password));
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
        if (!co_await write(steps[i], after(s_.command_timeout))) co_return false;
        auto r = co_await read_reply(after(s_.command_timeout));
        if (!r) co_return false;
        const bool last = i + 1 == steps.size();
        if (r->code == (last ? 235 : 334)) continue;
        error_ = r->diagnostic();  // the connection is dropped: no "*" cancel needed
        co_return false;
    }
    co_return true;
}

rcpt_result smtp_client::from_reply(const remote_reply& r, const char* stage) const
{
    rcpt_result out;
    out.kind = r.positive() ? rcpt_kind::delivered : r.permanent() ? rcpt_kind::permanent : rcpt_kind::temporary;
    out.status = r.status.empty() ? default_status(r.code) : r.status;
    if (r.positive())
        out.reason = "delivered via " + relay_ + ": " + r.diagnostic();
    else
        out.reason = "host " + relay_ + " said: " + r.diagnostic() + " (in reply to " + stage + ")";
    return out;
}

void smtp_client::fail_connection(transaction_result& out, const char* stage)
{
    usable_ = false;
    for (auto& r : out.recipients) {
        if (r.kind != rcpt_kind::undecided) continue;
        r.status = "4.4.2";
        r.reason = (out.body_sent ? "lost connection with " : "conversation with ") + relay_ + " failed while " +
                   stage + ": " + error_;
    }
}

asio::awaitable<bool> smtp_client::send_commands(const transaction& t, transaction_result& out)
{
    const std::size_t n = t.recipients.size();
    std::string mail = mail_line(t.sender, t.options, ext_);
    std::vector<std::string> rcpts;
    for (const auto& r : t.recipients) rcpts.push_back(rcpt_line(r.address, r.orcpt, r.notify, ext_));
    // RFC 2920: with PIPELINING, MAIL, every RCPT and DATA go in one write; replies come back in order.
    if (ext_.pipelining) {
        std::string group = mail;
        for (const auto& r : rcpts) group += r;
        group += "DATA\r\n";
        if (!co_await write(group, after(s_.command_timeout))) { fail_connection(out, "sending MAIL FROM"); co_return false; }
    } else if (!co_await write(mail, after(s_.command_timeout))) {
        { fail_connection(out, "sending MAIL FROM"); co_return false; }
    }
    auto mr = co_await read_reply(after(s_.command_timeout));
    if (!mr) { fail_connection(out, "reading the MAIL FROM reply"); co_return false; }
    const bool mail_ok = mr->positive();
    if (!mail_ok)
        for (auto& r : out.recipients) r = from_reply(*mr, "MAIL FROM");
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!ext_.pipelining && !mail_ok) break;
        if (!ext_.pipelining && !co_await write(rcpts[i], after(s_.command_timeout)))
            { fail_connection(out, "sending RCPT TO"); co_return false; }
        auto rr = co_await read_reply(after(s_.command_timeout));
        if (!rr) { fail_connection(out, "reading RCPT TO replies"); co_return false; }
        if (!mail_ok) continue;  // pipelined: 503s for the RCPTs after a refused MAIL
        if (rr->positive()) {
            ++accepted;  // decided only by the reply to the final dot
        } else {
            out.recipients[i] = from_reply(*rr, "RCPT TO");
        }
    }
    if (!ext_.pipelining && (!mail_ok || accepted == 0)) co_return false;
    if (!ext_.pipelining && !co_await write("DATA\r\n", after(s_.command_timeout)))
        { fail_connection(out, "sending DATA"); co_return false; }
    auto dr = co_await read_reply(after(s_.command_timeout));
    if (!dr) { fail_connection(out, "reading the DATA reply"); co_return false; }
    if (dr->code != 354) {
        if (mail_ok)
            for (auto& r : out.recipients)
                if (r.kind == rcpt_kind::undecided) r = from_reply(*dr, "DATA");
        co_return false;
    }
    if (!mail_ok || accepted == 0) {
        // A pipelining server said 354 though no recipient was accepted: end the empty message.
        if (co_await write(".\r\n", after(s_.command_timeout))) co_await read_reply(after(s_.command_timeout));
        co_return false;
    }
    co_return true;
}

asio::awaitable<transaction_result> smtp_client::send(const transaction& t)
{
    transaction_result out;
    out.recipients.resize(t.recipients.size());
    if (t.options.smtputf8 && !ext_.smtputf8) {
        // RFC 6531 3.4: the message needs SMTPUTF8 and the server does not offer it.
        for (auto& r : out.recipients) r = result(rcpt_kind::permanent, "5.6.7", "host " + relay_ + " does not support SMTPUTF8");
        co_return out;
    }
    if (ext_.size && ext_.max_size > 0 && t.options.size > ext_.max_size) {
        // RFC 1870 6: do not send a message larger than the server's declared limit.
        for (auto& r : out.recipients)
            r = result(rcpt_kind::permanent, "5.3.4",
                       "message size " + std::to_string(t.options.size) + " exceeds the limit of " + relay_ + " (" +
                           std::to_string(ext_.max_size) + ")");
        co_return out;
    }
    if (!co_await send_commands(t, out)) co_return out;
    std::string_view body = *t.body;
    out.body_sent = true;
    for (std::size_t off = 0; off < body.size(); off += body_block)
        if (!co_await write(body.substr(off, body_block), after(s_.data_timeout)))
            { fail_connection(out, "sending message data"); co_return out; }
    auto fr = co_await read_reply(after(s_.data_timeout));
    if (!fr) { fail_connection(out, "waiting for the reply to end of data"); co_return out; }
    for (auto& r : out.recipients)
        if (r.kind == rcpt_kind::undecided) r = from_reply(*fr, "end of DATA");
    co_return out;
}

asio::awaitable<bool> smtp_client::reset()
{
    if (!usable_) co_return false;
    if (!co_await write("RSET\r\n", after(s_.command_timeout))) co_return false;
    auto r = co_await read_reply(after(s_.command_timeout));
    if (!r || !r->positive()) {
        usable_ = false;
        co_return false;
    }
    co_return true;
}

asio::awaitable<void> smtp_client::quit()
{
    if (usable_) {
        // Politeness only: a short deadline, and the answer does not matter.
        auto by = after(std::min(s_.command_timeout, std::chrono::seconds(10)));
        if (co_await write("QUIT\r\n", by)) co_await read_reply(by);
    }
    usable_ = false;
    boost::system::error_code ignored;
    stream_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close(ignored);
}

}  // namespace postrider::outbound
