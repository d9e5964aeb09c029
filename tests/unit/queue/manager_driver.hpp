// tests/unit/queue/manager_driver.hpp: drive a queue::manager on one io_context (test helpers).
//
// Shared by manager_test.cpp and delivery_faults_test.cpp: settings under a temp dir,
// a canned message, submit without blocking, and the maildir files of a user.
#pragma once

#include "support/catch.hpp"

#include "queue/manager.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace postrider::test {

using namespace std::chrono_literals;

// run_until - drive io until pred holds or the time limit passes; returns pred().
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred, std::chrono::seconds limit = 20s)
{
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.restart();
        io.run_for(5ms);
    }
    return pred();
}

// make_settings - queue and mail root under t, default policy.
inline queue::settings make_settings(const temp_dir& t)
{
    queue::settings s;
    s.queue_dir = t.path() / "queue";
    s.mail_root = t.path() / "mail";
    s.hostname = "mx.example.org";
    return s;
}

// make_message - a small message with a Received: and a Subject: line.
inline queue::new_message make_message(std::string sender, std::vector<std::string> rcpts, std::string body = "hello\r\n")
{
    queue::new_message m;
    m.sender = std::move(sender);
    for (auto& r : rcpts) m.recipients.push_back({std::move(r), "", 0});
    m.content = "Received: from client (127.0.0.1)\r\nSubject: test\r\n\r\n" + body;
    m.client = "127.0.0.1";
    m.protocol = "ESMTP";
    return m;
}

// submit_one - start a submit; the result lands in out.
inline void submit_one(boost::asio::io_context& io, queue::manager& mgr, queue::new_message m,
                       std::optional<queue::commit_result>& out)
{
    boost::asio::co_spawn(io, mgr.submit(mgr.allocate_id(), std::move(m)),
                          [&out](std::exception_ptr e, queue::commit_result r) {
                              if (e) std::rethrow_exception(e);
                              out = std::move(r);
                          });
}

// requeue_now - admin "queue requeue" of id ("" = every message); drives io until it answers.
inline queue::manager::requeue_result requeue_now(boost::asio::io_context& io, queue::manager& mgr, std::string id)
{
    std::optional<queue::manager::requeue_result> out;
    boost::asio::co_spawn(io, mgr.requeue(std::move(id)), [&out](std::exception_ptr e, queue::manager::requeue_result r) {
        if (e) std::rethrow_exception(e);
        out = std::move(r);
    });
    REQUIRE(run_until(io, [&] { return out.has_value(); }));
    return *out;
}

// flush_and_drain - make every deferred recipient due now (admin "queue flush") and run
//                   until the queue is empty and nothing is in flight.
inline void flush_and_drain(boost::asio::io_context& io, queue::manager& mgr)
{
    std::optional<std::size_t> flushed;
    boost::asio::co_spawn(io, mgr.flush_all(), [&](std::exception_ptr e, std::size_t k) {
        if (e) std::rethrow_exception(e);
        flushed = k;
    });
    REQUIRE(run_until(io, [&] { return flushed && mgr.queued() == 0 && mgr.idle(); }));
}

// maildir_new - files in <mail>/<domain>/<user>/Maildir/new.
inline std::vector<std::string> maildir_new(const temp_dir& t, const std::string& domain, const std::string& user)
{
    return files_in(t.path() / "mail" / domain / user / "Maildir" / "new");
}

// only_message - the one file in that maildir's new/ (REQUIREs exactly one).
inline std::string only_message(const temp_dir& t, const std::string& domain, const std::string& user)
{
    auto files = maildir_new(t, domain, user);
    REQUIRE(files.size() == 1);
    return slurp(t.path() / "mail" / domain / user / "Maildir" / "new" / files[0]);
}

}  // namespace postrider::test
