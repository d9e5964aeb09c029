// queue/manager.cpp: the queue manager (see manager.hpp; design in docs/queue-format.md).
#include "queue/manager.hpp"

#include "core/escape.hpp"
#include "core/log_format.hpp"
#include "core/verp.hpp"
#include "local/expansion.hpp"
#include "local/forward_read.hpp"
#include "local/header_scan.hpp"
#include "local/maildir.hpp"
#include "log/log.hpp"
#include "queue/bounce.hpp"
#include "queue/requeue.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <exception>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace postrider::queue {
namespace {

using std::chrono::system_clock;

// to_us - time point to unix microseconds.
std::int64_t to_us(sys_time t)
{
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// from_us - unix microseconds to a time point.
sys_time from_us(std::int64_t us)
{
    return sys_time{std::chrono::duration_cast<system_clock::duration>(std::chrono::microseconds{us})};
}

// delay_fields - Postfix's "delay=T, delays=a/b/c/d": a = arrival until the commit was durable,
//                b = queue wait until this attempt, c = connection setup, d = transmission.
//                After a restart the commit time is unknown: a = 0 and b counts from arrival.
std::string delay_fields(std::int64_t arrival_us, std::int64_t committed_us, std::int64_t started_us,
                         std::int64_t setup_us, std::int64_t now_us)
{
    using std::chrono::microseconds;
    const std::int64_t committed = committed_us ? committed_us : arrival_us;
    const std::int64_t started = started_us ? started_us : now_us;
    const std::int64_t d = now_us - started - setup_us;
    return fmt::format("delay={}, delays={}/{}/{}/{}", core::seconds_text(microseconds(now_us - arrival_us)),
                       core::seconds_text(microseconds(committed - arrival_us)),
                       core::seconds_text(microseconds(started - committed)), core::seconds_text(microseconds(setup_us)),
                       core::seconds_text(microseconds(d)));
}

// out_of_space - ENOSPC or EDQUOT: the filesystem (or the quota) is full.
bool out_of_space(std::error_code ec)
{
    return ec == std::errc::no_space_on_device || ec.value() == EDQUOT;
}

// storage_reason - the 4xx text for a failed commit (never leaks paths).
std::string storage_reason(std::error_code ec)
{
    return out_of_space(ec) ? "Insufficient system storage" : "Queue file write error";
}

// split_address - local part and domain at the last '@'.
std::pair<std::string, std::string> split_address(const std::string& a)
{
    auto at = a.rfind('@');
    if (at == std::string::npos) return {a, {}};
    return {a.substr(0, at), a.substr(at + 1)};
}

// wants_failure_notice - RFC 3461 4.1: NOTIFY absent means FAILURE; NEVER suppresses.
bool wants_failure_notice(std::uint8_t notify)
{
    if (notify == 0) return true;
    if (notify & notify_never) return false;
    return (notify & notify_failure) != 0;
}

// wants_success_notice - RFC 3461 4.1: only an explicit NOTIFY=SUCCESS asks for one.
bool wants_success_notice(std::uint8_t notify)
{
    return !(notify & notify_never) && (notify & notify_success) != 0;
}

// wants_delay_notice - RFC 3461 4.1: NOTIFY=DELAY asks for one; an absent NOTIFY may be
//                      treated as FAILURE,DELAY, which we do (as Postfix with delay_warning_time).
bool wants_delay_notice(std::uint8_t notify)
{
    if (notify == 0) return true;
    return !(notify & notify_never) && (notify & notify_delay) != 0;
}

// is_null_sender_mail - mail nobody may be told about: from <>, or a report we made.
bool is_null_sender_mail(const envelope& e)
{
    return e.sender.empty() || e.is_bounce || e.is_double_bounce;
}

// envelope_sender - the MAIL FROM / Return-Path for one recipient: the VERP form
//                   (owner+rcpt=domain@origin) when the message asked for it.
std::string envelope_sender(const envelope& e, std::size_t rcpt)
{
    if (e.verp_delimiters.empty()) return e.sender;
    return core::verp_sender(e.sender, e.recipients[rcpt].address, e.verp_delimiters).value_or(e.sender);
}

}  // namespace

manager::manager(boost::asio::any_io_executor ex, settings s, const local::mailbox_table& table)
    : strand_(boost::asio::make_strand(ex)), s_(std::move(s)), table_(table),
      fs_(s_.fs ? *s_.fs : local::posix()),
      policy_{s_.backoff_first, s_.backoff_cap, s_.max_lifetime}, timer_(strand_)
{
}

manager::~manager()
{
    // A program may run for program_timeout; cancel it first, then join the disk threads:
    // no phase may run on the store while its journal is written out.
    program_cancel_.cancel();
    program_worker_.reset();
    disk_.reset();
    if (store_) store_->close_journal();
}

void manager::start()
{
    if (store_) throw std::logic_error("queue manager started twice");
    auto st = std::make_unique<store>(fs_, s_.queue_dir, s_.flush);
    st->create_dirs();
    if (s_.journal) st->use_journal(s_.journal_opts);
    if (auto ec = local::make_dirs(fs_, s_.mail_root, 0700))
        throw std::runtime_error("mail root " + s_.mail_root.string() + ": " + ec.message());
    auto report = st->recover();
    log::info("queue: started dir={} recovered={} tmp_removed={} orphans_removed={} quarantined={} journal={}",
              core::logfmt_value(s_.queue_dir.string()), report.messages.size(), report.tmp_removed,
              report.orphans_removed, report.quarantined, s_.journal ? "yes" : "no");
    store_ = std::move(st);
    const bool group = s_.flush == flush_mode::group;
    disk_ = std::make_unique<disk_worker>(fs_, std::vector{s_.queue_dir, s_.mail_root}, group, group ? 1 : 4);
    boost::asio::post(strand_, [this, msgs = std::move(report.messages)]() mutable {
        for (auto& m : msgs) install(std::move(m.env), m.journal, true);
        dispatch();
    });
}

void manager::stop()
{
    boost::asio::post(strand_, [this] {
        stopped_ = true;
        timer_.cancel();
    });
}

std::string manager::allocate_id()
{
    return ids_.next();
}

manager_stats manager::stats() const
{
    manager_stats st;
    if (disk_) st.flushes = disk_->flushes();
    return st;
}

boost::asio::awaitable<commit_result> manager::submit(std::string id, new_message m)
{
    envelope env;
    env.queue_id = id;
    env.sender = std::move(m.sender);
    for (auto& r : m.recipients) env.recipients.push_back({std::move(r.address), std::move(r.orcpt), r.notify});
    env.arrival_us = to_us(system_clock::now());
    env.client = std::move(m.client);
    env.helo = std::move(m.helo);
    env.protocol = std::move(m.protocol);
    env.envid = std::move(m.envid);
    env.body_8bit = m.body_8bit;
    env.smtputf8 = m.smtputf8;
    env.ret_full = m.ret_full;
    env.verp_delimiters = std::move(m.verp_delimiters);
    const auto t0 = std::chrono::steady_clock::now();
    commit_result r =
        co_await commit(std::move(id), std::move(env), std::move(m.trace), std::move(m.content), m.content_skip);
    if (s_.on_commit)
        s_.on_commit(r.ok, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    co_return r;
}

boost::asio::awaitable<commit_result> manager::commit(std::string id, envelope env, std::string trace,
                                                     std::string content, std::size_t skip)
{
    commit_result r;
    if (!store_) { r.reason = "Queue not available"; co_return r; }
    if (!is_valid_queue_id(id) || env.recipients.empty() || env.recipients.size() > max_recipients) {
        log::error("{}: commit refused: bad queue id or recipient count", core::escape(id));
        r.reason = "Local error in processing";
        co_return r;
    }
    store& st = *store_;
    std::vector<disk_worker::phase> phases;
    const std::string_view body = std::string_view(content).substr(std::min(skip, content.size()));
    phases.push_back([&st, &id, &trace, body, &env] { return st.commit(id, trace, body, env); });
    auto ec = co_await run(*disk_, std::move(phases), [&st, &id] { st.undo_commit(id); }, true, true, true);
    if (ec) {
        log::warn("{}: commit failed status=deferred error=\"{}\"", id, core::escape(ec.message()));
        r.reason = storage_reason(ec);
        r.insufficient_storage = out_of_space(ec);
        co_return r;
    }
    log::info("{}: from=<{}>, size={}, nrcpt={} (queue active)", id, core::escape(env.sender),
              env.message_size, env.recipients.size());
    // The 250 goes out before the posted install runs: count it, so idle() does not report
    // "nothing to do" for a message that is durable but not yet in the index.
    ++installing_;
    boost::asio::post(strand_, [this, e = std::move(env), committed = to_us(system_clock::now())]() mutable {
        --installing_;
        const std::string qid = e.queue_id;
        install(std::move(e), {}, false);
        if (auto it = messages_.find(qid); it != messages_.end()) it->second.committed_us = committed;
        dispatch();
    });
    r.ok = true;
    r.queue_id = std::move(id);
    co_return r;
}

void manager::install(envelope env, const std::vector<outcome>& journal, bool recovered)
{
    std::string id = env.queue_id;
    message_state m;
    m.rcpts.resize(env.recipients.size());
    std::vector<sys_time> next(env.recipients.size(), system_clock::now());
    for (const auto& o : journal) {  // replay: the last record per recipient wins
        auto& r = m.rcpts[o.recipient];
        r.apply(o);
        if (o.kind == outcome_kind::deferred) next[o.recipient] = from_us(o.next_attempt_us);
        // record() queues the delay notice before it journals the deferral that crossed
        // delay_warning, so such a record means the notice was sent (at-least-once).
        if (o.kind == outcome_kind::deferred && !is_requeue_record(o) && s_.delay_warning.count() > 0 &&
            o.at_us - env.arrival_us >= std::chrono::microseconds(s_.delay_warning).count())
            r.delay_noticed = true;
    }
    for (auto& r : m.rcpts) r.may_have_copy = recovered && r.status == rcpt_status::pending;
    m.env = std::move(env);
    auto [it, fresh] = messages_.emplace(id, std::move(m));
    if (!fresh) {
        log::error("{}: duplicate queue id ignored", id);
        return;
    }
    for (std::size_t i = 0; i < it->second.rcpts.size(); ++i)
        if (it->second.rcpts[i].status == rcpt_status::pending) schedule_at(id, i, next[i]);
    maybe_finish(id);
}

void manager::schedule_at(const std::string& id, std::size_t rcpt, sys_time when)
{
    if (when <= system_clock::now()) {
        ready_.push_back({id, rcpt});
        return;
    }
    due_.emplace(when, work_item{id, rcpt});
    arm_timer();
}

void manager::arm_timer()
{
    if (due_.empty() || stopped_) return;
    auto first = due_.begin()->first;
    if (timer_.expiry() == first) return;  // already waiting for exactly that
    timer_.expires_at(first);  // cancels an earlier wait; its handler sees operation_aborted
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) on_timer();
    });
}

void manager::on_timer()
{
    auto now = system_clock::now();
    while (!due_.empty() && due_.begin()->first <= now) {
        ready_.push_back(std::move(due_.begin()->second));
        due_.erase(due_.begin());
    }
    timer_.expires_at(sys_time{});  // forget the old expiry so arm_timer re-arms
    arm_timer();
    dispatch();
}

void manager::spawn(boost::asio::awaitable<void> task, std::string what)
{
    boost::asio::co_spawn(strand_, std::move(task), [what = std::move(what)](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log::error("{}: task failed: {}", what, core::escape(x.what()));
        } catch (...) {
            log::error("{}: task failed: unknown exception", what);
        }
    });
}

void manager::dispatch()
{
    while (!stopped_ && active_ < s_.local_concurrency && !ready_.empty()) {
        work_item w = std::move(ready_.front());
        ready_.pop_front();
        auto it = messages_.find(w.id);
        if (it == messages_.end()) continue;
        if (w.rcpt == finish_marker) {
            maybe_finish(w.id);
            continue;
        }
        auto& r = it->second.rcpts[w.rcpt];
        if (r.status != rcpt_status::pending || r.in_flight) continue;
        if (is_remote(it->second, w.rcpt)) {
            start_remote(w.id, w.rcpt);  // not bounded by local_concurrency: the pool has its own limits
            continue;
        }
        r.in_flight = true;
        ++it->second.in_flight;
        ++active_;
        spawn(attempt(w.id, w.rcpt), w.id);
    }
}

boost::asio::awaitable<void> manager::attempt(std::string id, std::size_t rcpt)
{
    std::string address = messages_.at(id).env.recipients[rcpt].address;
    auto domain = split_address(address).second;
    attempt_result r;
    const auto started = to_us(system_clock::now());
    if (!table_.is_local_domain(domain)) {
        // XXX: until remote delivery lands, remote recipients wait in the queue.
        r = {outcome_kind::deferred, "4.4.1", "remote delivery not yet available", "none"};
    } else {
        r = co_await deliver_expanded(id, rcpt, address);
    }
    r.started_us = started;
    co_await record(std::move(id), rcpt, std::move(r));
}

boost::asio::awaitable<manager::attempt_result> manager::deliver_local(std::string id, std::size_t rcpt,
                                                                       std::string sender, std::string address,
                                                                       bool look_first, std::string rel,
                                                                       std::function<bool()> divert)
{
    attempt_result r;
    std::filesystem::path maildir = s_.mail_root / rel;
    const std::string tag = local::delivery_tag(id, rcpt);
    local::maildir_delivery d(fs_, maildir, local::unique_name(to_us(system_clock::now()), ::getpid(), tag, s_.hostname),
                              s_.flush == flush_mode::per_file);
    store& st = *store_;
    local::fs_ops& fs = fs_;
    const bool per_file = s_.flush == flush_mode::per_file;
    std::filesystem::path earlier;    // the copy an earlier attempt left (empty: none)
    bool found = false;
    bool unsure = look_first;         // a copy may exist that this attempt has not found or removed
    std::optional<std::string> loop;  // set (in the worker) when the message must bounce as a loop
    bool diverted = false;
    const std::size_t max_received = s_.max_received;
    std::vector<disk_worker::phase> phases;
    phases.push_back([&, look_first, max_received, per_file] {
        if (divert && (diverted = divert())) return std::error_code{};
        if (look_first) {
            if (auto ec = local::find_delivery(maildir, tag, earlier)) return ec;
            found = !earlier.empty();
            // Its rename may not be on disk yet (a crash before the fsync of new/, an undo that
            // failed): per_file flushes it here, group mode's syncfs after this phase does.
            if (found) return per_file ? local::make_durable(fs, earlier) : std::error_code{};
            unsure = false;
        }
        std::string content;
        if (auto ec = st.read_message(id, content)) return ec;
        // The header scan sits here because the bytes are in memory here: no second read.
        loop = local::loop_reason(local::scan_headers(content, address), max_received);
        if (loop) return std::error_code{};
        local::to_lf_in_place(content);  // one copy of the message in memory, however large
        return d.stage(local::delivery_prefix(sender, address), content);
    });
    phases.push_back([&d, &found, &loop, &diverted] {
        return found || loop || diverted ? std::error_code{} : d.publish();
    });
    auto undo = [&d, &found, &loop, &diverted, &unsure] {
        if (!found && !loop && !diverted && !d.discard()) unsure = true;
    };
    auto ec = co_await run(*disk_, std::move(phases), std::move(undo), true);
    r.relay = "local";
    r.may_have_copy = unsure;
    if (!ec && diverted) {
        r.diverted = true;
    } else if (!ec && loop) {
        r.kind = outcome_kind::failed;
        r.status = "5.4.6";
        r.reason = std::move(*loop);
    } else if (!ec && found) {
        // Its data was flushed before its rename; the flush above covers the rename before
        // the record below.
        r.kind = outcome_kind::delivered;
        r.status = "2.0.0";
        r.reason = "already in maildir (an earlier attempt's copy)";
    } else if (ec) {
        // A local failure is always temporary (never bounce for our own disk trouble).
        r.kind = outcome_kind::deferred;
        r.status = "4.2.0";
        r.reason = "maildir delivery failed: " + ec.message();
    } else {
        r.kind = outcome_kind::delivered;
        r.status = "2.0.0";
        r.reason = "delivered to maildir";
    }
    co_return r;
}

// g++ 12 reports -Wmismatched-new-delete for these two coroutines after inlining Asio's frame
// allocator (sized delete after aligned new: a false positive, gcc PR middle-end/109224).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
boost::asio::awaitable<manager::attempt_result> manager::deliver_expanded(std::string id, std::size_t rcpt,
                                                                          std::string address)
{
    auto [local_part, domain] = split_address(address);
    // Planned on the strand from the live tables (a SIGHUP swaps them between attempts, never
    // during this call: the plan holds copies).
    const local::expansion_plan plan = local::plan_expansion(local_part, domain, table_);
    local::expansion_facts facts;
    // Only after a crash or a failed undo can an earlier copy exist: every other attempt
    // (a fresh message, a retry after a clean failure) skips the directory scan.
    const bool look_first = messages_.at(id).rcpts[rcpt].may_have_copy;
    const std::string sender = envelope_sender(messages_.at(id).env, rcpt);
    // The common case, a mailbox whose user has no forward file: look for the files in the
    // same disk job as the copy (one hand-off to the disk threads instead of two, and no
    // list-owner lookups, which only matter when addresses are forwarded). A file that
    // exists diverts the job before anything is written; the full expansion below takes over.
    if (plan.type == local::expansion_plan::kind::mailbox && plan.own_maildir) {  // no file: its own maildir
        std::function<bool()> divert;
        if (!plan.forward_files.empty() && !plan.user_dir.empty()) {
            local::expansion_plan files_only = plan;
            files_only.owners.clear();
            divert = [&facts, files_only = std::move(files_only), root = s_.mail_root] {
                facts = local::read_forward_facts(root, files_only);
                return !facts.file_name.empty() || !facts.io_error.empty();
            };
        }
        attempt_result own =
            co_await deliver_local(id, rcpt, sender, address, look_first, *plan.own_maildir, std::move(divert));
        if (!own.diverted) {
            messages_.at(id).rcpts[rcpt].may_have_copy = own.may_have_copy;  // re-found: we waited
            own.repeat_safe = own.kind == outcome_kind::delivered;
            co_return own;
        }
    }
    // What the divert read stays: only the list owners are left to look at then.
    const bool file_read = !facts.file_name.empty() || !facts.io_error.empty();
    bool stat_owners = false;
    for (const auto& o : plan.owners) stat_owners = stat_owners || !o.path_to_stat.empty();
    if ((!plan.forward_files.empty() && !file_read) || stat_owners) {
        std::vector<disk_worker::phase> phases;
        const std::filesystem::path root = s_.mail_root;
        phases.push_back([&facts, &plan, file_read, root] {
            if (!file_read) {
                facts = local::read_forward_facts(root, plan);
            } else {
                local::expansion_plan owners_only = plan;
                owners_only.forward_files.clear();
                facts.owner_exists = local::read_forward_facts(root, owners_only).owner_exists;
            }
            return std::error_code{};
        });
        co_await run(*disk_, std::move(phases), {}, false);
    }
    const local::expansion ex = local::finish_expansion(plan, facts, s_.allow_program_delivery);
    attempt_result r;
    r.relay = "local";
    if (ex.type == local::expansion::kind::unknown_user) {
        r.kind = outcome_kind::failed;
        r.status = "5.1.1";
        r.reason = ex.reason;
        co_return r;
    }
    if (ex.type == local::expansion::kind::defer) {
        // Never lose mail over a user's typo: defer (the user can fix the file) and say why.
        log::warn("{}: to=<{}>, expansion deferred: {}", id, core::escape(address), core::escape(ex.reason));
        r.kind = outcome_kind::deferred;
        r.status = "4.3.5";
        r.reason = ex.reason;
        co_return r;
    }
    if (local::is_own_mailbox_only(plan, ex)) {
        r = co_await deliver_local(id, rcpt, sender, address, look_first, *plan.own_maildir);
        messages_.at(id).rcpts[rcpt].may_have_copy = r.may_have_copy;  // re-found: we waited
        co_return r;
    }
    std::vector<std::string> maildirs;
    for (const auto& t : ex.targets)
        if (t.type == local::delivery_target::kind::maildir) maildirs.push_back(t.value);
    if (!ex.user_dir.empty() && !maildirs.empty()) {
        std::string bad;
        std::vector<disk_worker::phase> phases;
        const std::filesystem::path root = s_.mail_root;
        phases.push_back([&bad, &maildirs, &ex, root] {
            for (const auto& m : maildirs)
                if (bad.empty()) bad = local::symlink_below(root, ex.user_dir, m);
            return std::error_code{};
        });
        co_await run(*disk_, std::move(phases), {}, false);
        if (!bad.empty()) {
            log::warn("{}: to=<{}>, expansion deferred: {} ({})", id, core::escape(address), bad, core::escape(ex.source));
            r.kind = outcome_kind::deferred;
            r.status = "4.3.5";
            r.reason = bad;
            co_return r;
        }
    }
    // Maildirs and programs in file order, as qmail-local: a failure stops there (before anything
    // is forwarded), a program exiting 99 ends the file (later lines, addresses too, are skipped).
    // The forward is last, so a retry after it failed finds the copies (may_have_copy) instead
    // of writing twice; programs that succeeded run again on a retry, as with qmail.
    std::string done;
    bool unsure = false, wrote = false;
    std::vector<std::string> addresses;
    for (const auto& t : ex.targets) {
        if (t.type == local::delivery_target::kind::address) {
            addresses.push_back(t.value);
            continue;
        }
        const bool is_maildir = t.type == local::delivery_target::kind::maildir;
        if (is_maildir)
            r = co_await deliver_local(id, rcpt, sender, address, look_first, t.value);
        else
            r = co_await deliver_program(id, sender, address, t.value, program_context_for(sender, address, ex));
        unsure = unsure || r.may_have_copy;
        if (r.kind != outcome_kind::delivered) {
            messages_.at(id).rcpts[rcpt].may_have_copy = wrote || unsure;  // earlier targets hold copies
            co_return r;
        }
        wrote = wrote || is_maildir;
        if (done.find(r.reason) == std::string::npos) done += (done.empty() ? "" : "; ") + r.reason;
        if (r.skip_rest) break;
    }
    if (!addresses.empty()) {
        r = co_await forward(id, address, std::move(addresses), ex.envelope_sender);
        if (r.kind == outcome_kind::deferred && wrote) unsure = true;
        if (r.kind == outcome_kind::delivered && !done.empty()) r.reason = done + "; " + r.reason;
    } else if (!done.empty()) {
        r.reason = done;
    }
    messages_.at(id).rcpts[rcpt].may_have_copy = unsure;
    r.relay = "local";
    co_return r;
}

boost::asio::awaitable<manager::attempt_result> manager::forward(std::string id, std::string address,
                                                                 std::vector<std::string> to, std::string owner)
{
    attempt_result r;
    r.relay = "local";
    std::string content;
    store& st = *store_;
    std::vector<disk_worker::phase> phases;
    phases.push_back([&st, &id, &content] { return st.read_message(id, content); });
    if (auto ec = co_await run(*disk_, std::move(phases), {}, false)) {
        r.kind = outcome_kind::deferred;
        r.status = "4.3.0";
        r.reason = "cannot read message to forward: " + ec.message();
        co_return r;
    }
    // The recursion bounds: our Delivered-To for this recipient means it came back (a loop),
    // and every forward adds one Delivered-To, so their count is the expansion depth.
    const auto facts = local::scan_headers(content, address);
    std::optional<std::string> loop = local::loop_reason(facts, s_.max_received);
    if (!loop && facts.delivered_to >= s_.max_forward_depth)
        loop = fmt::format("mail loop: forwarded too often ({} Delivered-To headers, limit {})", facts.delivered_to,
                           s_.max_forward_depth);
    if (loop) {
        r.kind = outcome_kind::failed;
        r.status = "5.4.6";
        r.reason = std::move(*loop);
        co_return r;
    }
    const auto& orig = messages_.at(id).env;
    envelope e;
    e.queue_id = allocate_id();
    // A bounce (null sender) stays one: a list owner must not turn it into mail that bounces.
    e.sender = owner.empty() || orig.sender.empty() ? orig.sender : owner;
    for (auto& a : to) e.recipients.push_back({std::move(a), {}, 0});
    e.arrival_us = to_us(system_clock::now());
    e.client = "127.0.0.1";
    e.protocol = "local";
    e.body_8bit = orig.body_8bit;
    e.smtputf8 = orig.smtputf8;
    e.ret_full = orig.ret_full;
    e.verp_delimiters = orig.verp_delimiters;  // the sender's VERP request carries over to the list
    const std::string nid = e.queue_id;
    const std::string sender = e.sender;
    const std::size_t n = e.recipients.size();
    std::string trace = "Delivered-To: " + address + "\r\n";
    auto res = co_await commit(nid, std::move(e), std::move(trace), std::move(content));
    if (!res.ok) {
        r.kind = outcome_kind::deferred;
        r.status = "4.3.0";
        r.reason = "cannot queue the forwarded message: " + res.reason;
        co_return r;
    }
    log::info("{}: forwarded from {} for <{}> from=<{}> nrcpt={}", nid, id, core::escape(address),
              core::escape(sender), n);
    r.kind = outcome_kind::delivered;
    r.status = "2.0.0";
    r.reason = "forwarded as " + nid;
    co_return r;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

std::vector<disk_worker::phase> manager::outcome_phases(store& st, const std::string& id, const outcome& o,
                                                       bool flush, std::function<void()>& undo)
{
    std::vector<disk_worker::phase> phases;
    phases.push_back([&st, &id, &o] { return st.append(id, o); });
    if (flush) phases.push_back([&st, &id] { return st.settle(id); });  // after the flush: a migration is durable
    undo = [&st, &id] { st.undo_append(id); };
    return phases;
}

boost::asio::awaitable<void> manager::record(std::string id, std::size_t rcpt, attempt_result r, bool remote,
                                             std::optional<system_clock::time_point> when)
{
    auto now = when ? *when : system_clock::now();
    auto& m = messages_.at(id);
    auto& rs = m.rcpts[rcpt];
    outcome o{static_cast<std::uint32_t>(rcpt), r.kind, to_us(now), 0, rs.attempts + 1, r.status, r.reason};
    std::optional<sys_time> next;
    if (r.kind == outcome_kind::deferred) {
        next = next_attempt(from_us(m.env.arrival_us), now, o.attempts, policy_);
        if (next) {
            o.next_attempt_us = to_us(*next);
        } else {
            o.kind = outcome_kind::failed;
            o.status = "4.4.7";
            o.reason = "delivery time expired; last error: " + r.reason;
        }
    }
    if (o.kind == outcome_kind::deferred) {
        // RFC 3461 DELAY: queued before the deferral is journalled (see install()).
        if (auto in = delay_for(id, rcpt, now)) {
            if (co_await queue_report(id, std::move(*in)))
                messages_.at(id).rcpts[rcpt].delay_noticed = true;
        }
    }
    // A delivery's record is not flushed on its own (Postfix does not fsync it either): it reaches
    // the disk with the next round's flush. A crash before then repeats the attempt, which finds
    // its own maildir copy (repeat_safe) or sends a remote copy again (at-least-once). Failures
    // and deferrals are flushed: bounces and retry times hang on them.
    const bool flush = !(o.kind == outcome_kind::delivered && (remote || r.repeat_safe));
    std::function<void()> undo;
    auto phases = outcome_phases(*store_, id, o, flush, undo);
    auto ec = co_await run(*disk_, std::move(phases), std::move(undo), flush, false);
    if (ec)
        // The delivery stands; after a crash it may be repeated (at-least-once).
        log::warn("{}: journal append failed error=\"{}\"", id, core::escape(ec.message()));
    auto& m2 = messages_.at(id);  // re-find: the map may have changed while we waited
    auto& r2 = m2.rcpts[rcpt];
    r2.apply(o);
    // Postfix: "expired" when the lifetime ran out, "bounced" for a permanent refusal.
    const char* what = o.kind == outcome_kind::delivered ? "sent"
                       : o.kind == outcome_kind::deferred ? "deferred"
                       : r.kind == outcome_kind::deferred ? "expired"
                                                          : "bounced";
    log::info("{}: to=<{}>, relay={}, {}, dsn={}, status={} ({})", id, core::escape(m2.env.recipients[rcpt].address),
              r.relay, delay_fields(m2.env.arrival_us, m2.committed_us, r.started_us, r.setup_us, to_us(now)),
              o.status, what, core::escape(o.reason));
    if (s_.on_delivery)
        s_.on_delivery(what, remote, static_cast<double>(to_us(now) - (r.started_us ? r.started_us : to_us(now))) / 1e6);
    r2.in_flight = false;
    --m2.in_flight;
    if (remote)
        --remote_active_;
    else
        --active_;
    if (next) schedule_at(id, rcpt, *next);
    maybe_finish(id);
    dispatch();
}

std::vector<queue_count> manager::census(std::size_t max_destinations) const
{
    std::map<std::string, std::map<std::string, std::uint64_t>> by_dest;  // destination -> state -> n
    for (const auto& [id, m] : messages_)
        for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
            const auto& r = m.rcpts[i];
            if (r.status != rcpt_status::pending) continue;
            auto domain = split_address(m.env.recipients[i].address).second;
            for (auto& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const std::string dest = table_.is_local_domain(domain) ? "local" : domain;
            ++by_dest[dest][r.in_flight ? "active" : r.attempts == 0 ? "ready" : "deferred"];
        }
    std::vector<std::pair<std::uint64_t, std::string>> sizes;
    for (const auto& [dest, states] : by_dest) {
        std::uint64_t n = 0;
        for (const auto& [state, k] : states) n += k;
        sizes.emplace_back(n, dest);
    }
    std::sort(sizes.begin(), sizes.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::map<std::string, std::map<std::string, std::uint64_t>> shown;
    for (std::size_t k = 0; k < sizes.size(); ++k) {
        const std::string label = k < max_destinations ? sizes[k].second : "other";
        for (const auto& [state, n] : by_dest[sizes[k].second]) shown[label][state] += n;
    }
    std::vector<queue_count> out;
    for (const auto& [dest, states] : shown)
        for (const auto& [state, n] : states) out.push_back({state, dest, n});
    return out;
}

void manager::maybe_finish(const std::string& id)
{
    auto it = messages_.find(id);
    if (it == messages_.end() || it->second.finishing || it->second.in_flight) return;
    for (const auto& r : it->second.rcpts)
        if (r.status == rcpt_status::pending) return;
    it->second.finishing = true;
    ++finishing_;
    spawn(finish(id), id);
}

boost::asio::awaitable<void> manager::finish(std::string id)
{
    if (!co_await queue_bounce(id)) {
        // Disk trouble while queueing the bounce: keep the message, try again later.
        messages_.at(id).finishing = false;
        due_.emplace(system_clock::now() + policy_.first, work_item{id, finish_marker});
        arm_timer();
        --finishing_;
        co_return;
    }
    store& st = *store_;
    std::vector<disk_worker::phase> phases;
    phases.push_back([&st, &id] { return st.remove(id); });
    if (auto ec = co_await run(*disk_, std::move(phases), {}, false))
        log::warn("{}: remove failed error=\"{}\" (retried at next start)", id, core::escape(ec.message()));
    else
        log::info("{}: removed", id);
    messages_.erase(id);
    --finishing_;
}

bounce_input manager::report_header(const std::string& id, report_kind kind) const
{
    const auto& m = messages_.at(id);
    bounce_input in;
    in.kind = kind;
    in.hostname = s_.hostname;
    in.queue_id = id;
    in.original_sender = m.env.sender;
    in.envid = m.env.envid;
    in.arrival_unix = m.env.arrival_us / 1000000;
    in.now_unix = to_us(system_clock::now()) / 1000000;
    in.expiry_unix = in.arrival_unix + s_.max_lifetime.count();
    in.ret_full = m.env.ret_full;
    return in;
}

std::vector<bounce_input> manager::bounce_for(const std::string& id)
{
    const auto& m = messages_.at(id);
    const bool null_sender = is_null_sender_mail(m.env);
    std::vector<report_recipient> failed;
    std::vector<std::size_t> index;  // of each failed recipient in the envelope
    for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
        const auto& er = m.env.recipients[i];
        // A double bounce reports every failure: NOTIFY was addressed to the (null) sender.
        if (m.rcpts[i].status == rcpt_status::failed && (null_sender || wants_failure_notice(er.notify))) {
            failed.push_back({er.address, er.orcpt, m.rcpts[i].dsn_status, m.rcpts[i].reason});
            index.push_back(i);
        }
    }
    if (failed.empty()) return {};
    if (null_sender) {
        // Never a loop: a failed double bounce, or no double_bounce_recipient, is only logged
        // (Postfix's default notify_classes drops double bounces the same way).
        if (m.env.is_double_bounce || s_.double_bounce_recipient.empty()) {
            log::warn("{}: undeliverable {} discarded nrcpt={} (null sender)", id,
                      m.env.is_double_bounce ? "double bounce" : "bounce", failed.size());
            return {};
        }
        bounce_input in = report_header(id, report_kind::double_bounce);
        in.report_to = s_.double_bounce_recipient;
        in.recipients = std::move(failed);
        return {std::move(in)};
    }
    // VERP (Postfix's bounce_flush_verp): one notice per failed recipient, sent to the return
    // path that names it, so a list manager learns who failed from the address alone. A
    // recipient without a VERP form (quoted local part, too long) is reported to the sender.
    std::vector<bounce_input> out;
    bounce_input plain = report_header(id, report_kind::failure);
    for (std::size_t k = 0; k < failed.size(); ++k) {
        std::string to = envelope_sender(m.env, index[k]);
        if (to == m.env.sender) {
            plain.recipients.push_back(std::move(failed[k]));
            continue;
        }
        bounce_input in = report_header(id, report_kind::failure);
        in.report_to = std::move(to);
        in.recipients.push_back(std::move(failed[k]));
        out.push_back(std::move(in));
    }
    if (!plain.recipients.empty()) out.push_back(std::move(plain));
    return out;
}

std::optional<bounce_input> manager::success_for(const std::string& id)
{
    const auto& m = messages_.at(id);
    if (is_null_sender_mail(m.env)) return std::nullopt;
    bounce_input in = report_header(id, report_kind::success);
    for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
        const auto& er = m.env.recipients[i];
        if (m.rcpts[i].status == rcpt_status::delivered && wants_success_notice(er.notify))
            in.recipients.push_back({er.address, er.orcpt, m.rcpts[i].dsn_status, m.rcpts[i].reason});
    }
    if (in.recipients.empty()) return std::nullopt;
    return in;
}

std::optional<bounce_input> manager::delay_for(const std::string& id, std::size_t rcpt, sys_time now)
{
    const auto& m = messages_.at(id);
    const auto& rs = m.rcpts[rcpt];
    const auto& er = m.env.recipients[rcpt];
    if (s_.delay_warning.count() <= 0 || rs.delay_noticed || is_null_sender_mail(m.env) ||
        !wants_delay_notice(er.notify))
        return std::nullopt;
    if (now - from_us(m.env.arrival_us) < s_.delay_warning) return std::nullopt;
    bounce_input in = report_header(id, report_kind::delay);
    in.recipients.push_back({er.address, er.orcpt, rs.dsn_status, rs.reason});
    return in;
}

// bounce_envelope - the envelope of a DSN from <> to rcpt.
envelope manager::bounce_envelope(const std::string& bid, const std::string& rcpt, bool double_bounce)
{
    envelope b;
    b.queue_id = bid;
    b.recipients.push_back({rcpt, {}, 0});
    b.arrival_us = to_us(system_clock::now());
    b.client = "127.0.0.1";
    b.protocol = "local";
    b.is_bounce = true;
    b.is_double_bounce = double_bounce;
    return b;
}

boost::asio::awaitable<bool> manager::queue_report(std::string id, bounce_input in)
{
    std::string original;
    store& st = *store_;
    std::vector<disk_worker::phase> phases;
    phases.push_back([&st, &id, &original] { return st.read_message(id, original); });
    if (auto ec = co_await run(*disk_, std::move(phases), {}, false)) {
        log::warn("{}: cannot read message for a report error=\"{}\"", id, core::escape(ec.message()));
        co_return false;
    }
    std::string bid = allocate_id();
    in.message_id = bid + "@" + s_.hostname;
    in.original = original;
    const bool dbl = in.kind == report_kind::double_bounce;
    const std::string to = in.report_to.empty() ? in.original_sender : in.report_to;
    auto res = co_await commit(bid, bounce_envelope(bid, to, dbl), {}, compose_bounce(in));
    static constexpr const char* what[] = {"sender non-delivery notification", "sender delay notification",
                                           "sender delivery status notification", "postmaster double-bounce notification"};
    if (res.ok) log::info("{}: {}: {}", id, what[static_cast<int>(in.kind)], bid);
    co_return res.ok;
}

boost::asio::awaitable<bool> manager::queue_bounce(std::string id)
{
    if (!messages_.at(id).failure_report_queued) {
        // The list is the same at every try (the recipients are final): a retry after disk
        // trouble queues only the notices not queued yet.
        auto reports = bounce_for(id);
        for (std::size_t k = messages_.at(id).failure_reports_done; k < reports.size(); ++k) {
            if (!co_await queue_report(id, std::move(reports[k]))) co_return false;
            ++messages_.at(id).failure_reports_done;
        }
        messages_.at(id).failure_report_queued = true;
    }
    if (!messages_.at(id).success_report_queued) {
        if (auto in = success_for(id)) {
            if (!co_await queue_report(id, std::move(*in))) co_return false;
        }
        messages_.at(id).success_report_queued = true;
    }
    co_return true;
}

bool manager::is_remote(const message_state& m, std::size_t rcpt) const
{
    return s_.remote && !table_.is_local_domain(split_address(m.env.recipients[rcpt].address).second);
}

void manager::start_remote(const std::string& id, std::size_t rcpt)
{
    auto& m = messages_.at(id);
    auto domain_of = [&m](std::size_t i) {
        std::string d = split_address(m.env.recipients[i].address).second;
        for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return d;
    };
    // Every ready remote recipient of this message rides with the others of its domain in one
    // SMTP transaction (each keeps its own retry schedule: recipients waiting for a later time
    // stay out). VERP recipients ride together too: the transport splits a batch into one
    // transaction per distinct sender on one connection, with the message read once.
    // All domains are grouped in ONE pass over the ready queue: starting one domain per pass
    // rescanned the queue once per domain, and 100,000 recipients over 1,000 domains held the
    // io thread (and every session on it) for seconds.
    std::vector<std::vector<std::size_t>> batches;
    std::unordered_map<std::string, std::size_t> batch_of;  // lower-cased domain -> index in batches
    std::vector<bool> taken(m.rcpts.size(), false);
    auto take = [&](std::size_t i) {
        if (taken[i]) return;  // a duplicate ready entry
        taken[i] = true;
        auto [it, fresh] = batch_of.try_emplace(domain_of(i), batches.size());
        if (fresh) batches.emplace_back();
        batches[it->second].push_back(i);
    };
    take(rcpt);
    std::erase_if(ready_, [&](const work_item& w) {
        if (w.id != id || w.rcpt == finish_marker) return false;
        if (w.rcpt == rcpt) return true;  // a duplicate entry for the recipient being started
        const auto& r = m.rcpts[w.rcpt];
        if (r.status != rcpt_status::pending || r.in_flight || !is_remote(m, w.rcpt)) return false;
        take(w.rcpt);
        return true;
    });
    for (auto& batch : batches) {
        for (auto i : batch) {
            m.rcpts[i].in_flight = true;
            ++m.in_flight;
            ++remote_active_;
        }
        spawn(attempt_remote(id, std::move(batch)), id);
    }
}

boost::asio::awaitable<std::optional<std::string>> manager::read_content(std::string id,
                                                                         std::shared_ptr<std::optional<std::string>> loop)
{
    std::string content;
    store& st = *store_;
    std::vector<disk_worker::phase> phases;
    phases.push_back([&st, &id, &content] { return st.read_message(id, content); });
    if (auto ec = co_await run(*disk_, std::move(phases), {}, false)) {
        log::warn("{}: cannot read message for remote delivery error=\"{}\"", id, core::escape(ec.message()));
        co_return std::nullopt;
    }
    // Only the hop count here: Delivered-To names local recipients, and relaying a
    // message that was delivered here once is forwarding, not a loop.
    *loop = local::loop_reason(local::scan_headers(content, {}), s_.max_received);
    if (*loop) co_return std::nullopt;
    co_return content;
}

boost::asio::awaitable<void> manager::attempt_remote(std::string id, std::vector<std::size_t> rcpts)
{
    remote_batch b;
    auto loop = std::make_shared<std::optional<std::string>>();  // outlives the batch: load may run late
    {
        const auto& m = messages_.at(id);
        b.queue_id = id;
        b.sender = m.env.sender;
        b.domain = split_address(m.env.recipients[rcpts.front()].address).second;
        for (auto i : rcpts) {
            const auto& er = m.env.recipients[i];
            queue::remote_recipient rr;  // no brace-init with string temporaries in a coroutine (g++ 12)
            rr.address = er.address;
            rr.orcpt = er.orcpt;
            rr.notify = er.notify;
            if (!m.env.verp_delimiters.empty()) rr.sender = envelope_sender(m.env, i);  // VERP: its own MAIL FROM
            b.recipients.push_back(std::move(rr));
        }
        b.size = m.env.message_size;
        b.body_8bit = m.env.body_8bit;
        b.smtputf8 = m.env.smtputf8;
        b.ret_full = m.env.ret_full;
        b.envid = m.env.envid;
        b.load = [this, id, loop] { return read_content(id, loop); };  // not a coroutine lambda: no dangling captures
    }
    const auto started = to_us(system_clock::now());
    std::vector<remote_outcome> out = co_await s_.remote->deliver(std::move(b));
    const auto finished = system_clock::now();
    for (std::size_t k = 0; k < rcpts.size(); ++k) {
        attempt_result r;  // filled field by field (g++ 12 coroutine brace-init bug, see outbound/pool.cpp)
        if (*loop) {  // too many hops: the transport saw a load failure, the sender gets 5.4.6
            r.kind = outcome_kind::failed;
            r.status = "5.4.6";
            r.reason = **loop;
            r.relay = "none";
        } else if (k < out.size()) {
            r.kind = out[k].kind;
            r.status = std::move(out[k].status);
            r.reason = std::move(out[k].reason);
            r.relay = std::move(out[k].relay);
            r.setup_us = out[k].setup_us;
        } else {  // a transport bug: never lose the recipient
            r.kind = outcome_kind::deferred;
            r.status = "4.3.0";
            r.reason = "remote transport returned no outcome";
            r.relay = "none";
        }
        r.started_us = started;
        // Each record awaits its own journal append; spawned together they share one group flush.
        spawn(record(id, rcpts[k], std::move(r), true, finished), id);
    }
}

}  // namespace postrider::queue
