// outbound/client.hpp: one outbound SMTP connection, driven by coroutines.
//
// Owns: a TCP (later TLS) stream to one remote address, the reply parser for
//       it, and the per-command deadlines; the order of commands in a
//       transaction (with PIPELINING when offered) and the per-recipient
//       classification of the replies.
// Trust: everything the server sends is UNTRUSTED: replies go through
//        reply_parser (bounded) and reach results only via diagnostic()
//        (escaped, capped). Bytes the server sends after its STARTTLS 220 and
//        before the handshake are refused (CVE-2011-0411 class). EHLO state is
//        discarded after STARTTLS.
// Threads: one coroutine at a time per client, on the executor given to the
//        constructor. The ssl::context must outlive the client.
// Standards: RFC 5321 3.3, 4.1.1, 4.2, 4.5.3.2 (client timeouts), 3.8 (HELO
//            fallback); RFC 2920, 3207, 1870, 6152, 3461, 6531.
// See also: protocol.hpp (the pure parts), pool.hpp (who calls this),
//           docs/remote-delivery.md ("The SMTP client").
#pragma once

#include "net/deadline_watch.hpp"
#include "outbound/protocol.hpp"
#include "outbound/reply_parser.hpp"
#include "outbound/sasl.hpp"
#include "outbound/tls_policy.hpp"
#include "queue/remote.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace postrider::outbound {

struct client_settings {
    std::string helo_name;                     // our name in EHLO/HELO
    std::chrono::seconds connect_timeout{30};  // TCP connect and TLS handshake
    std::chrono::seconds command_timeout{300}; // RFC 5321 4.5.3.2: greeting, MAIL, RCPT are 5 min
    std::chrono::seconds data_timeout{600};    // each body block, and the reply to the final dot (10 min)
    bool starttls = true;                      // opportunistic STARTTLS when offered
};

// failed: the host failed (mark it down); tls_failed: TLS could not be had (a plaintext retry
// helps only at level may); auth_failed: AUTH was refused or could not be done safely (the host
// itself works).
enum class open_status { ok, failed, tls_failed, auth_failed };

struct open_result {
    open_status status = open_status::failed;
    std::string reason;  // escaped; e.g. "connect to mx[127.0.0.5]:25: Connection refused"
    std::string code;    // enhanced status for the recipients when nothing else works ("4.7.5")
};

// What TLS this connection must have (tls_policy.hpp).
struct tls_request {
    tls_level level = tls_level::may;
    std::string match;  // verify/secure: the name the certificate must carry (RFC 6125; an IP: its address)
};

enum class rcpt_kind { undecided, delivered, temporary, permanent };

struct rcpt_result {
    rcpt_kind kind = rcpt_kind::undecided;  // undecided: the connection failed before an answer
    std::string status;                     // enhanced status
    std::string reason;                     // escaped
};

struct transaction {
    std::string sender;
    std::vector<queue::remote_recipient> recipients;  // at most transaction_recipients
    mail_options options;
    const std::string* body = nullptr;  // dot-stuffed, ending ".\r\n"; outlives send()
};

struct transaction_result {
    std::vector<rcpt_result> recipients;  // same order as transaction::recipients
    bool body_sent = false;               // after this, a failure may still mean the server has it
};

// RFC 5321 4.5.3.1.8: every server takes 100 recipients per transaction.
inline constexpr std::size_t transaction_recipients = 100;

class smtp_client {
public:
    smtp_client(boost::asio::any_io_executor ex, boost::asio::ssl::context& tls, const client_settings& s);

    // open - connect, read the greeting, EHLO (HELO fallback), STARTTLS as tls.level says
    //        (none: never; may: when offered; encrypt/verify/secure: mandatory, and for
    //        verify/secure the certificate must chain to the context's CAs and name
    //        tls.match, else tls_failed), then AUTH with auth (if given; only over TLS).
    //        auth must outlive the call.
    boost::asio::awaitable<open_result> open(boost::asio::ip::tcp::endpoint ep, std::string host, tls_request tls,
                                             const sasl_credentials* auth = nullptr);
    // send - one transaction; per-recipient results. The connection may be unusable afterwards.
    boost::asio::awaitable<transaction_result> send(const transaction& t);
    // reset - RSET before reusing the connection for another message; false: drop it.
    boost::asio::awaitable<bool> reset();
    // quit - QUIT with a short deadline, then close. Never fails.
    boost::asio::awaitable<void> quit();

    bool usable() const noexcept { return usable_; }
    // relay - "host[address]:port" for logs and outcomes.
    const std::string& relay() const noexcept { return relay_; }
    // tls - "TLSv1.3 with cipher X" when the connection is encrypted, else empty.
    const std::string& tls() const noexcept { return tls_info_; }

private:
    using deadline = std::chrono::steady_clock::time_point;
    deadline after(std::chrono::seconds d) const { return std::chrono::steady_clock::now() + d; }

    // read_reply - the next complete reply, or nullopt (error_ says why; connection unusable).
    boost::asio::awaitable<std::optional<remote_reply>> read_reply(deadline by);
    // write - all bytes by the deadline; false on error or timeout (error_ says why).
    boost::asio::awaitable<bool> write(std::string_view data, deadline by);
    // hello - EHLO, or HELO when EHLO gets a 5xx (RFC 5321 3.2 / 4.1.4).
    boost::asio::awaitable<std::optional<remote_reply>> hello();
    // starttls - STARTTLS, handshake, then EHLO again; false: TLS failed (connection unusable).
    boost::asio::awaitable<bool> starttls();
    // authenticate - AUTH PLAIN (or LOGIN) over TLS only; false: refused or not possible (error_ says why).
    boost::asio::awaitable<bool> authenticate(const sasl_credentials& c);
    // send_commands - MAIL, RCPTs, DATA (pipelined or not); fills results; true if DATA got 354.
    boost::asio::awaitable<bool> send_commands(const transaction& t, transaction_result& out);
    // fail_connection - mark undecided recipients with the connection error.
    void fail_connection(transaction_result& out, const char* stage);
    // from_reply - per-recipient result for a server reply to stage.
    rcpt_result from_reply(const remote_reply& r, const char* stage) const;

    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
    net::deadline_watch watch_;  // bounds every read and write (after stream_: destroyed first)
    const client_settings& s_;
    bool encrypted_ = false;
    tls_request tls_;  // what this connection must have
    bool usable_ = false;
    reply_parser parser_;
    extensions ext_;
    std::string host_, relay_, tls_info_, error_;
};

}  // namespace postrider::outbound
