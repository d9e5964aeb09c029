// queue/remote.hpp: the seam between the queue manager and remote (SMTP) delivery.
//
// Owns: the contract for handing a batch (one message, one destination domain,
//       its due recipients) to a transport and getting one outcome per recipient.
// Trust: batch fields come from the queue (validated at receipt). Outcome text
//        may quote a remote server: the transport must have escaped it
//        (core::escape) before it is returned; the manager journals it as is.
// Threads: deliver() is awaited on the manager's strand; the transport may use
//        other coroutines internally but completes on the caller's executor.
// See also: outbound/pool.hpp (the implementation), docs/remote-delivery.md.
#pragma once

#include "queue/record.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace postrider::queue {

struct remote_recipient {
    std::string address;  // local@domain
    std::string orcpt;    // RFC 3461 ORCPT, decoded, may be empty
    std::uint8_t notify = 0;
    // VERP: this recipient's own MAIL FROM (core/verp.hpp); unset: the batch's sender. The
    // transport sends recipients with different senders in separate transactions, but loads
    // the message once for the whole batch.
    std::optional<std::string> sender;
};

struct remote_batch {
    std::string queue_id;
    std::string sender;  // empty = <>; a recipient's own sender (VERP) wins
    std::string domain;  // lower-cased destination domain shared by every recipient
    std::vector<remote_recipient> recipients;
    std::uint64_t size = 0;
    bool body_8bit = false, smtputf8 = false, ret_full = false;
    std::string envid;
    // load - read the message (CRLF bytes) when the transport is ready to send it; nullopt on a
    //        disk error. Called at most once per transport attempt, on the caller's executor.
    std::function<boost::asio::awaitable<std::optional<std::string>>()> load;
};

struct remote_outcome {
    outcome_kind kind = outcome_kind::deferred;  // delivered, failed (permanent) or deferred
    std::string status;                          // enhanced status, e.g. "5.1.1"
    std::string reason;                          // escaped text (may quote the remote reply)
    std::string relay;                           // "host[address]:port" or "none"
    std::int64_t setup_us = 0;  // connection setup (DNS, connect, greeting, EHLO, TLS): Postfix delays= "c"
};

class remote_transport {
public:
    virtual ~remote_transport() = default;
    // deliver - one outcome per batch recipient, same order. Never throws for network errors.
    virtual boost::asio::awaitable<std::vector<remote_outcome>> deliver(remote_batch batch) = 0;
};

}  // namespace postrider::queue
