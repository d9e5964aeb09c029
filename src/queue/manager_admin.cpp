// queue/manager_admin.cpp: the queue manager's admin requests (queue flush,
//                          queue delete), kept apart from manager.cpp so the
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

namespace postrider::queue {

// Both functions name their task lambda and await into a local: g++ 12 destroys
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
        auto ec = co_await run(*queue_worker_, std::move(phases), {}, false);
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

}  // namespace postrider::queue
