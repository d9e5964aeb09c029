// queue/manager_admin.cpp: the queue manager's admin requests (queue flush,
//                          queue delete, queue requeue), kept apart from manager.cpp so the
//                          delivery logic and the tools' hooks evolve separately.
//
// Trust: ids come from the control socket, already checked by is_valid_queue_id.
// Threads: both run on the manager's strand (co_spawn onto it), like every
//          other change of the index.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/escape.hpp"
#include "log/log.hpp"
#include "queue/manager.hpp"
#include "queue/requeue.hpp"

namespace postrider::queue {

// All three name their task lambda and await into a local: g++ 12 destroys
// temporaries of a co_await full-expression twice (a lambda capturing a string
// there is a double free; seen in the integration test of queue delete).

boost::asio::awaitable<std::size_t> manager::flush_all()
{
    auto task = [this]() -> boost::asio::awaitable<std::size_t> {
        // Everything waiting for a timer becomes ready; dispatch() skips entries
        // whose message or recipient is gone or already in flight.
        std::size_t n = 0;
        for (auto& [when, w] : due_) {
            ready_.push_back(std::move(w));
            ++n;
        }
        due_.clear();
        log::info("queue: flush requested: {} recipients made due now", n);
        dispatch();
        co_return n;
    };
    auto n = co_await boost::asio::co_spawn(strand_, std::move(task), boost::asio::use_awaitable);
    co_return n;
}

boost::asio::awaitable<std::string> manager::remove(std::string id)
{
    auto task = [this, id]() -> boost::asio::awaitable<std::string> {
        auto it = messages_.find(id);
        if (it == messages_.end()) co_return "not in the queue";
        // An attempt in flight would journal into a removed file: refuse, the admin retries.
        if (it->second.in_flight != 0 || it->second.finishing) co_return "a delivery is in progress; try again";
        messages_.erase(it);  // queued work items for it are skipped by dispatch()
        ++finishing_;         // idle() stays false until the files are gone
        store& st = *store_;
        std::vector<disk_worker::phase> phases;
        phases.push_back([&st, &id] { return st.remove(id); });
        auto ec = co_await run(*disk_, std::move(phases), {}, false);
        --finishing_;
        if (ec) {
            log::warn("{}: delete requested; unlink failed error=\"{}\"", id, core::escape(ec.message()));
            co_return "unlink failed: " + ec.message();
        }
        log::info("{}: removed by admin request", id);
        co_return std::string{};
    };
    auto why = co_await boost::asio::co_spawn(strand_, std::move(task), boost::asio::use_awaitable);
    co_return why;
}

boost::asio::awaitable<manager::requeue_result> manager::requeue(std::string id)
{
    auto task = [this, id]() -> boost::asio::awaitable<requeue_result> {
        requeue_result res;
        if (!id.empty() && !messages_.contains(id)) {
            res.error = "not in the queue";
            co_return res;
        }
        const auto now = std::chrono::system_clock::now();
        const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
        // Journal first (durable), then change the index: a crash in between replays the
        // records at start, which makes the same recipients due (at-least-once, like flush).
        std::vector<std::pair<std::string, outcome>> records;
        for (const auto& [mid, m] : messages_) {
            if ((!id.empty() && mid != id) || m.finishing) continue;
            for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
                const auto& r = m.rcpts[i];
                if (r.status == rcpt_status::pending && !r.in_flight && r.attempts > 0)
                    records.emplace_back(mid, requeue_outcome(static_cast<std::uint32_t>(i), r.dsn_status, now_us));
            }
        }
        store& st = *store_;
        // Every append, ONE flush, every settle (not a flush per record: a requeue of the whole
        // queue would take a syncfs per message).
        std::vector<disk_worker::phase> phases;
        phases.push_back([&st, &records] {
            for (const auto& rec : records)
                if (auto ec = st.append(rec.first, rec.second)) return ec;
            return std::error_code{};
        });
        phases.push_back([&st, &records] {
            for (const auto& rec : records)
                if (auto ec = st.settle(rec.first)) return ec;
            return std::error_code{};
        });
        if (!records.empty()) {
            auto undo = [&st, &records] {
                for (const auto& rec : records) st.undo_append(rec.first);
            };
            auto ec = co_await run(*disk_, std::move(phases), undo, true, false);
            if (ec) {
                log::warn("queue: requeue requested; journal append failed error=\"{}\"", core::escape(ec.message()));
                res.error = "journal append failed: " + ec.message();
                co_return res;
            }
        }
        // Recipients that were never tried need no record: they are due already; the
        // ones above lose their timer entry and become ready now.
        std::erase_if(due_, [&](const auto& entry) {
            return entry.second.rcpt != finish_marker && (id.empty() || entry.second.id == id) &&
                   messages_.contains(entry.second.id);
        });
        for (auto& [mid, m] : messages_) {
            if ((!id.empty() && mid != id) || m.finishing) continue;
            for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
                auto& r = m.rcpts[i];
                if (r.status != rcpt_status::pending || r.in_flight) continue;
                if (r.attempts > 0) {
                    r.apply(requeue_outcome(static_cast<std::uint32_t>(i), r.dsn_status, now_us));
                    log::info("{}: to=<{}>, requeued by admin request", mid, core::escape(m.env.recipients[i].address));
                }
                ready_.push_back({mid, i});
                ++res.recipients;
            }
        }
        timer_.expires_at(sys_time{});  // the earliest entry may be gone: re-arm from scratch
        arm_timer();
        dispatch();
        co_return res;
    };
    auto res = co_await boost::asio::co_spawn(strand_, std::move(task), boost::asio::use_awaitable);
    co_return res;
}

}  // namespace postrider::queue
