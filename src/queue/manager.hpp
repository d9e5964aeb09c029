// queue/manager.hpp: the queue manager: commits, schedule, local delivery, retries, bounces.
//
// Owns: the in-memory index of (message, recipient) work with next-attempt
//       times; the commit path behind queue::submitter; dispatch of local
//       deliveries (bounded concurrency); journal records; bounces; removal;
//       recovery of the index at start.
// Trust: messages arrive through submit() from validated sessions; files on
//        disk are revalidated at start (store::recover). Addresses are split
//        at the last '@' and looked up in the mailbox table, which alone builds
//        maildir paths (never from raw address text).
// Threads: all state lives on an internal strand of the executor passed in.
//        submit()/allocate_id() may be called from any thread/executor; the
//        disk work (queue and maildirs alike) runs on one disk_worker, so one syncfs
//        per round covers both; delivery programs run on a second pool (one thread
//        per local delivery slot, made at first use).
// Lifetime: the manager must outlive every coroutine it started: stop the
//        io_context (or let run() return) before destroying it, and do not run
//        that io_context again afterwards.
// See also: submission.hpp (the promise), store.hpp, schedule.hpp, bounce.hpp,
//           docs/queue-format.md.
#pragma once

#include "local/fs_ops.hpp"
#include "local/mailbox_table.hpp"
#include "local/program_runner.hpp"
#include "queue/bounce.hpp"
#include "queue/disk_worker.hpp"
#include "queue/queue_id.hpp"
#include "queue/record.hpp"
#include "queue/remote.hpp"
#include "queue/schedule.hpp"
#include "queue/store.hpp"
#include "queue/submission.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace postrider::local {
struct expansion;
}

namespace postrider::queue {

struct settings {
    std::filesystem::path queue_dir;  // created 0700 with tmp/ mess/ env/ corrupt/
    std::filesystem::path mail_root;  // maildir paths from the mailbox table are relative to it
    std::string hostname;             // maildir file names, bounce From:/Reporting-MTA
    std::size_t local_concurrency = 20;
    // remote - SMTP delivery for non-local domains (outbound::pool); nullptr: such recipients
    //          are deferred with "remote delivery not available". Must outlive the manager.
    remote_transport* remote = nullptr;
    std::chrono::seconds max_lifetime{5 * 24 * 3600};  // then the recipient bounces
    std::chrono::seconds backoff_first{300};           // first retry delay, doubling ...
    std::chrono::seconds backoff_cap{3600};            // ... up to this
    std::chrono::seconds delay_warning{4 * 3600};      // RFC 3461 DELAY notice after this long deferred; 0 = never
    std::string double_bounce_recipient;               // undeliverable bounces go here; empty = log and drop
    std::size_t max_received = 100;                    // more Received: fields bounce 5.4.6; 0 = no limit
    std::size_t max_forward_depth = 20;                // Delivered-To fields a message may carry when forwarded again
    bool allow_program_delivery = false;               // |command lines in forward files (else the file defers)
    std::chrono::seconds program_timeout{1000};        // "|command" deliveries: then killed, deferred
    std::size_t program_output_limit = 4096;           // program output octets kept for the reason
    flush_mode flush = flush_mode::group;
    // journal - commit to the write-ahead journal (queue_dir/journal/) instead of files per
    //           message; deferred messages move to classic files (docs/queue-format.md "Journal").
    bool journal = false;
    journal_options journal_opts;
    local::fs_ops* fs = nullptr;  // syscall seam for tests; nullptr = real POSIX calls
    // Observers for metrics (empty: none); called on the manager's strand.
    // on_delivery(result sent|deferred|bounced|expired, remote, seconds of the attempt)
    std::function<void(const char*, bool, double)> on_delivery;
    // on_commit(ok, seconds from submit() to the durable commit or its failure)
    std::function<void(bool, double)> on_commit;
};

// queue_count - recipients in one state for one destination (see manager::census).
struct queue_count {
    std::string state;        // active (attempt in flight) | ready (never tried yet) | deferred (waiting to retry)
    std::string destination;  // "local", a lower-case remote domain, or "other"
    std::uint64_t recipients = 0;
};

struct manager_stats {
    std::uint64_t flushes = 0;  // syncfs rounds (one covers the queue's and the maildirs' filesystems)
};

class manager final : public submitter {
public:
    // manager - nothing touches the disk until start(). table must outlive the manager.
    manager(boost::asio::any_io_executor ex, settings s, const local::mailbox_table& table);
    ~manager() override;

    // start - create dirs (0700), clean tmp/, validate and load the queue (quarantining
    //         bad files), start the disk threads and schedule recovered work.
    //         Blocking disk I/O: call at start-up, before the io_context serves sessions.
    //         Throws std::runtime_error on unusable directories.
    void start();
    // stop - no new deliveries are started; commits and in-flight deliveries complete.
    //        Thread-safe (posts to the strand).
    void stop();

    // allocate_id - a fresh queue id (time + random); thread-safe, no I/O.
    std::string allocate_id() override;
    // submit - durable commit (group flush) then wake the scheduler; see submission.hpp.
    boost::asio::awaitable<commit_result> submit(std::string id, new_message m) override;

    // flush_all - admin "queue flush": every recipient waiting for a timer becomes due
    //             now; returns how many were. Any thread (runs on the strand).
    boost::asio::awaitable<std::size_t> flush_all();
    // remove - admin "queue delete": drop the message from the index and unlink its
    //          files; "" on success, else why not ("not in the queue", or a delivery is
    //          in flight: try again). Any thread (runs on the strand). manager_admin.cpp.
    boost::asio::awaitable<std::string> remove(std::string id);

    struct requeue_result {
        std::size_t recipients = 0;  // made due now with a fresh retry schedule
        std::string error;           // set when nothing was changed
    };
    // requeue - admin "queue requeue" (Postfix postsuper -r): every deferred recipient of
    //           message id ("" = every message) is journalled as requeued (durable), then
    //           due now; routing is decided again at that attempt. Any thread (strand).
    boost::asio::awaitable<requeue_result> requeue(std::string id);

    // stats - flush counters (tests, benchmarks). Thread-safe.
    manager_stats stats() const;
    // idle - no install, delivery attempt, bounce or removal in flight (deferred messages
    //        waiting for their timer do not count): safe to stop the io_context.
    //        Call from the io_context's thread (single-threaded io_context).
    bool idle() const { return active_ == 0 && finishing_ == 0 && remote_active_ == 0 && installing_ == 0; }
    // queued - number of messages in the in-memory index (same caveat as idle()).
    std::size_t queued() const { return messages_.size(); }
    // census - undelivered recipients by state and destination; the max_destinations busiest
    //          destinations by name, the rest as "other" (bounded metric labels). Same caveat as idle().
    std::vector<queue_count> census(std::size_t max_destinations) const;

private:
    enum class rcpt_status { pending, delivered, failed };
    struct rcpt_state {
        rcpt_status status = rcpt_status::pending;
        std::uint32_t attempts = 0;
        bool in_flight = false;
        bool delay_noticed = false;  // RFC 3461 DELAY notice sent (or no longer due): once per recipient
        // An earlier attempt may have left its maildir copy: set for a recipient still pending at
        // start (an earlier life may have crashed after the rename) and after an attempt whose
        // undo could not remove its copy; cleared by the next attempt that looked (deliver_local).
        bool may_have_copy = false;
        std::string dsn_status, reason;  // last outcome

        // apply - take over a journalled outcome (at replay and after an attempt alike).
        void apply(const outcome& o)
        {
            attempts = o.attempts;
            dsn_status = o.status;
            reason = o.reason;
            status = o.kind == outcome_kind::delivered ? rcpt_status::delivered
                     : o.kind == outcome_kind::failed  ? rcpt_status::failed
                                                       : rcpt_status::pending;
        }
    };
    struct message_state {
        envelope env;
        std::vector<rcpt_state> rcpts;
        std::size_t in_flight = 0;
        bool finishing = false;
        bool failure_report_queued = false;  // set once queued, so a retried finish() skips it
        std::size_t failure_reports_done = 0;  // VERP: per-recipient notices already queued
        bool success_report_queued = false;
        std::int64_t committed_us = 0;  // when the commit was durable (memory only: 0 after a restart)
    };
    struct work_item {
        std::string id;
        std::size_t rcpt;  // finish_marker: run finish() again (bounce could not be queued)
    };
    static constexpr std::size_t finish_marker = static_cast<std::size_t>(-1);
    struct attempt_result {
        outcome_kind kind = outcome_kind::deferred;
        std::string status, reason, relay;
        std::int64_t started_us = 0;  // attempt start (unix us): ends Postfix delays= "b"
        std::int64_t setup_us = 0;    // connection setup (remote only): delays= "c"
        bool may_have_copy = false;   // local: a copy may be in the maildir though not delivered
        bool skip_rest = false;       // program exit 99: later lines of the forward file are skipped
        bool diverted = false;        // local: deliver_local's divert found a forward file; nothing written
        bool repeat_safe = false;     // delivered into the recipient's own maildir: a repeat after a
                                      // crash finds the copy by its tag, so the record needs no flush
    };

    // commit - the disk part of submit, shared with internal bounces.
    //          The queue file is trace + content[skip..] (empty trace for our own reports;
    //          skip: the octets trace already holds rewritten, new_message::content_skip).
    boost::asio::awaitable<commit_result> commit(std::string id, envelope env, std::string trace, std::string content,
                                                 std::size_t skip = 0);
    // install - add a message to the index and schedule its pending recipients (strand).
    //           recovered: loaded from disk at start (see rcpt_state::may_have_copy).
    void install(envelope env, const std::vector<outcome>& journal, bool recovered);
    // schedule_at - make (id, rcpt) ready at when (strand).
    void schedule_at(const std::string& id, std::size_t rcpt, sys_time when);
    // arm_timer - point the one timer at the earliest due item (strand).
    void arm_timer();
    // on_timer - move due items to the ready queue (strand).
    void on_timer();
    // dispatch - start deliveries up to the concurrency limit (strand).
    void dispatch();
    // spawn - co_spawn a strand coroutine with an exception-logging handler.
    void spawn(boost::asio::awaitable<void> task, std::string what);
    // attempt - one delivery attempt of one recipient, then its journal record (strand).
    boost::asio::awaitable<void> attempt(std::string id, std::size_t rcpt);
    // deliver_local - write one maildir copy of recipient rcpt; the result classifies the failure.
    //                 look_first: an earlier attempt may have left its copy (a crash or a failed
    //                 undo before its journal record); if new/ or cur/ holds it, make it durable
    //                 and record that one. The result's may_have_copy says whether a later attempt
    //                 must look again.
    //                 maildir: the path relative to the mail root (from the recipient's expansion).
    //                 divert: run first in the same disk job; true stops it before anything is
    //                 looked up or written (result.diverted), so the caller can expand instead.
    boost::asio::awaitable<attempt_result> deliver_local(std::string id, std::size_t rcpt, std::string sender,
                                                         std::string address, bool look_first, std::string maildir,
                                                         std::function<bool()> divert = {});
    // deliver_expanded - expand a local recipient (alias, forward file; docs/addressing.md) and
    //                    deliver to each target: maildirs first, then one forwarded message.
    boost::asio::awaitable<attempt_result> deliver_expanded(std::string id, std::size_t rcpt, std::string address);
    // forward - commit ONE new message (Delivered-To: address prepended) to the expansion's
    //           addresses, from owner (empty: the original sender); durable before it returns,
    //           so the original recipient's record comes after (a crash may duplicate, never lose).
    boost::asio::awaitable<attempt_result> forward(std::string id, std::string address, std::vector<std::string> to,
                                                   std::string owner);
    // deliver_program - run one "|command" forward target for address on the program worker
    //                   (manager_program.cpp): message on stdin with the maildir prefix, exit
    //                   status classified as qmail-command(8). A line that does not split
    //                   into argv defers (a typo must not lose mail).
    boost::asio::awaitable<attempt_result> deliver_program(std::string id, std::string sender, std::string address,
                                                           std::string command, local::program_context ctx);
    // program_context_for - the environment facts of a program line of expansion ex (strand).
    local::program_context program_context_for(const std::string& sender, const std::string& address,
                                               const local::expansion& ex) const;
    // record - journal and apply one attempt's outcome (strand).
    // remote=true releases a remote recipient's count instead of a local delivery slot.
    //          when: the attempt's time (unset: now); a remote batch passes one value for all its
    //          recipients so the deferred ones come due together and retry in one transaction.
    boost::asio::awaitable<void> record(std::string id, std::size_t rcpt, attempt_result r, bool remote = false,
                                        std::optional<std::chrono::system_clock::time_point> when = std::nullopt);
    // outcome_phases - the disk job of one outcome: append (maybe a migration), flush, settle;
    //                  undo removes a migration whose flush failed. flush false: append only (such
    //                  an outcome never migrates, and a settle without a flush before it could
    //                  retire the journal copy of another job's migration before its classic files
    //                  are durable). (Out of record()'s coroutine body: built there, g++ 12 -O2
    //                  reports a false -Wmismatched-new-delete.)
    static std::vector<disk_worker::phase> outcome_phases(store& st, const std::string& id, const outcome& o,
                                                          bool flush, std::function<void()>& undo);
    // is_remote - the recipient's domain is not local and a remote transport exists (strand).
    bool is_remote(const message_state& m, std::size_t rcpt) const;
    // start_remote - batch rcpt with the other ready recipients of the message in the same domain (strand).
    void start_remote(const std::string& id, std::size_t rcpt);
    // attempt_remote - hand one batch to the remote transport, then journal each outcome (strand).
    boost::asio::awaitable<void> attempt_remote(std::string id, std::vector<std::size_t> rcpts);
    // read_content - the message bytes for the remote transport (nullopt on a disk error, or
    //                when the header scan finds too many hops: *loop then says why).
    boost::asio::awaitable<std::optional<std::string>> read_content(std::string id,
                                                                    std::shared_ptr<std::optional<std::string>> loop);
    // maybe_finish - when no recipient is pending or in flight, finish the message (strand).
    void maybe_finish(const std::string& id);
    // finish - bounce failed recipients (if any and allowed), then remove the message (strand).
    boost::asio::awaitable<void> finish(std::string id);
    // bounce_for - the failure DSNs for a finished message, none when none is due (strand):
    //              one, or with VERP one per failed recipient to the return path naming it.
    //              A failed message from <> yields a double bounce (or nothing, see docs).
    std::vector<bounce_input> bounce_for(const std::string& id);
    // success_for - the NOTIFY=SUCCESS report input for a finished message, or nullopt (strand).
    std::optional<bounce_input> success_for(const std::string& id);
    // delay_for - the NOTIFY=DELAY report for one recipient deferred at now, or nullopt (strand).
    std::optional<bounce_input> delay_for(const std::string& id, std::size_t rcpt, sys_time now);
    // report_header - the fields every report about message id shares (strand).
    bounce_input report_header(const std::string& id, report_kind kind) const;
    // bounce_envelope - the envelope of a DSN from <> to rcpt.
    static envelope bounce_envelope(const std::string& bid, const std::string& rcpt, bool double_bounce);
    // queue_report - read the original, compose and commit the report; false if not queued.
    boost::asio::awaitable<bool> queue_report(std::string id, bounce_input in);
    // queue_bounce - the failure report (or double bounce) and the success report of a
    //                finished message, each at most once; false if one could not be queued.
    boost::asio::awaitable<bool> queue_bounce(std::string id);

    boost::asio::strand<boost::asio::any_io_executor> strand_;
    settings s_;
    const local::mailbox_table& table_;
    local::fs_ops& fs_;
    backoff_policy policy_;
    queue_id_generator ids_;
    std::unique_ptr<store> store_;
    std::unique_ptr<disk_worker> disk_;             // commits, journal, reads, maildir copies, removals
    local::program_canceller program_cancel_;       // fired by ~manager: running programs are killed
    std::unique_ptr<disk_worker> program_worker_;   // program deliveries (threads made at first use)
    boost::asio::system_timer timer_;
    std::map<std::string, message_state> messages_;
    std::multimap<sys_time, work_item> due_;
    std::deque<work_item> ready_;
    std::size_t active_ = 0;     // delivery attempts in flight
    std::size_t remote_active_ = 0;  // remote recipients handed to the transport (not counted in active_)
    std::size_t finishing_ = 0;  // finish() tasks in flight
    // Committed messages whose install() is posted but not yet run. Atomic: commit() resumes on
    // the caller's executor, not the strand.
    std::atomic<std::size_t> installing_ = 0;
    bool stopped_ = false;
};

}  // namespace postrider::queue
