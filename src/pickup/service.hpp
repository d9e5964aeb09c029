// pickup/service.hpp: the daemon side of the maildrop: moves messages that
//                     sendmail(1) dropped into the queue, at once (inotify)
//                     and at start.
//
// Owns: the inotify watch on maildrop/new, the scan order, and the rule that
//       a maildrop file is removed only after queue::submitter::submit()
//       reported a durable commit (a crash in between picks it up again: a
//       duplicate at worst, never a loss).
// Trust: every maildrop file is UNTRUSTED (see maildrop.hpp, validate.hpp).
//        A file that cannot be decoded or validated is moved to
//        maildrop/quarantine/ and logged once; it is never retried. A failed
//        commit (queue disk trouble) is temporary: the file stays and the
//        scan is retried after retry_delay.
// Threads: runs on the executor given (the daemon's io_context thread).
// XXX: maildrop files are read with blocking calls on the event loop. They are
//      bounded by message_size_limit and read once; moving the read to the
//      queue's disk threads is a contained change inside service.cpp.
// Lifetime: the service and the submitter must outlive the io_context's run().
// See also: docs/sendmail.md ("Maildrop and pickup").
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "pickup/validate.hpp"
#include "queue/submission.hpp"

namespace postrider::pickup {

struct service_settings {
    std::filesystem::path queue_dir;
    std::string hostname;  // for the Received: header
    drop_limits limits;
    std::chrono::milliseconds retry_delay{5000};  // after a failed commit
    // postdrop_group's gid: queue_dir 0710 and maildrop/, tmp/, new/ 1730 with that group
    // (docs/security.md rule 1); unset: the directories stay as created (0700).
    std::optional<gid_t> postdrop_gid;
    core::masquerade_rules masquerade;  // masquerade_* (docs/addressing.md)
    bool hide_client = false;           // hide_client_hosts
};

struct service_stats {
    std::uint64_t picked_up = 0;    // committed and removed from the maildrop
    std::uint64_t quarantined = 0;  // refused files
};

class service {
public:
    service(boost::asio::any_io_executor ex, service_settings s, queue::submitter& queue);
    ~service();
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    // start - create the maildrop dirs, set the inotify watch, start the pickup loop
    //         (which scans what is already there first). Throws std::runtime_error.
    void start();
    // stop - end the loop at its next wait; a commit in progress finishes first.
    void stop();
    // idle - no maildrop file is being committed right now (io_context thread).
    bool idle() const { return !busy_; }
    service_stats stats() const { return stats_; }

private:
    // run - scan, then wait for an inotify event (or the retry timer), until stopped.
    boost::asio::awaitable<void> run();
    // scan - take every file in new/; false when a commit failed (retry later).
    boost::asio::awaitable<bool> scan();
    struct prepared {
        std::string qid;
        unsigned owner = 0;
        queue::new_message message;
    };
    // prepare - read, decode and validate one file; nullopt when gone or quarantined.
    std::optional<prepared> prepare(const std::string& name);
    // take - one file: prepare, submit, remove; false on a failed commit.
    boost::asio::awaitable<bool> take(std::string name);
    // refuse - quarantine one file and log why.
    void refuse(const std::string& name, const std::string& why);

    boost::asio::any_io_executor ex_;
    service_settings s_;
    queue::submitter& queue_;
    std::filesystem::path maildrop_;
    boost::asio::posix::stream_descriptor inotify_;
    boost::asio::steady_timer timer_;
    bool stopping_ = false;
    bool busy_ = false;
    service_stats stats_;
};

}  // namespace postrider::pickup
