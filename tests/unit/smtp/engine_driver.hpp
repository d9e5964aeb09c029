// tests/unit/smtp/engine_driver.hpp: drive smtp::server_engine like a session would, for tests.
//
// Trust: test code only. Feeds scripted (possibly hostile) byte streams to the
//        engine at chosen split points and records everything it produces.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "smtp/server_engine.hpp"
#include "support/catch.hpp"
#include "support/crlf.hpp"

namespace postrider::smtp::test {

using postrider::test::crlf_clean;

// Recipient table: known users at localhost; tempfail.test fails; other domains are relaying.
class fake_policy final : public recipient_policy {
public:
    rcpt_verdict check(std::string_view local, std::string_view domain) const override
    {
        static const std::vector<std::string_view> users{"alice", "bob", "postmaster", "o'brien", "\"a b\"",
                                                         "x.y", "δοκιμή"};
        if (domain == "tempfail.test")
            return rcpt_verdict::temp_failure;
        if (domain != "localhost" && domain != "[127.0.0.1]" && domain != "[IPv6:::1]")
            return rcpt_verdict::relay_denied;
        return std::find(users.begin(), users.end(), local) != users.end() ? rcpt_verdict::accept
                                                                           : rcpt_verdict::unknown_user;
    }
};

enum class end_action { none, peer_closed, timeout, shutdown };

struct run_options {
    server_settings settings{};
    bool commit_ok = true;
    end_action at_end = end_action::none;
};

struct run_result {
    std::string output;
    std::vector<accepted_message> messages;
    std::vector<std::string> events;
    input_phase final_phase = input_phase::command;
};

// replies_well_formed - output is CRLF lines, each "ddd" + (' ' or '-'), nothing else.
inline bool replies_well_formed(std::string_view out)
{
    if (!crlf_clean(out))
        return false;
    while (!out.empty()) {
        const auto eol = out.find("\r\n");
        const auto line = out.substr(0, eol);
        if (line.size() < 4 || (line[3] != ' ' && line[3] != '-'))
            return false;
        for (int i = 0; i < 3; ++i)
            if (line[i] < '0' || line[i] > '9')
                return false;
        out.remove_prefix(eol + 2);
    }
    return true;
}

// settle - answer every completed message the way the session does (take, commit).
inline void settle(server_engine& e, const run_options& opt, run_result& r)
{
    while (e.phase() == input_phase::awaiting_commit) {
        auto m = e.take_message();
        REQUIRE(m.has_value());
        CHECK_FALSE(e.take_message().has_value());  // once only
        r.messages.push_back(std::move(*m));
        const auto id = "QID" + std::to_string(r.messages.size());
        e.commit_done(commit_outcome{opt.commit_ok, id, "disk full"});
    }
}

// run_pieces - greet, feed each piece in order (settling commits), then the end action.
inline run_result run_pieces(const std::vector<std::string_view>& pieces, const run_options& opt)
{
    fake_policy policy;
    server_engine e(opt.settings, policy, "192.0.2.1");
    run_result r;
    e.greet();
    for (auto p : pieces) {
        e.feed(p);
        settle(e, opt, r);
        r.output += e.take_output();
    }
    switch (opt.at_end) {
    case end_action::none: break;
    case end_action::peer_closed: e.peer_closed(); break;
    case end_action::timeout: e.timeout(); break;
    case end_action::shutdown: e.shutdown(); break;
    }
    settle(e, opt, r);
    r.output += e.take_output();
    r.events = e.take_events();
    r.final_phase = e.phase();
    return r;
}

// run_whole - the input in one feed().
inline run_result run_whole(std::string_view in, const run_options& opt = {})
{
    return run_pieces({in}, opt);
}

// same_result - CHECK that two runs produced identical replies, messages and state.
inline void check_same(const run_result& got, const run_result& want)
{
    CHECK(got.output == want.output);
    CHECK(got.final_phase == want.final_phase);
    REQUIRE(got.messages.size() == want.messages.size());
    for (std::size_t i = 0; i < got.messages.size(); ++i) {
        CHECK(got.messages[i].data == want.messages[i].data);
        CHECK(got.messages[i].sender == want.messages[i].sender);
        CHECK(got.messages[i].recipients.size() == want.messages[i].recipients.size());
    }
}

// grind - run in at every split point (a|b) and byte by byte; each must equal the one-feed run.
//         Inputs over max_exhaustive octets get 64 evenly spaced split points instead.
inline run_result grind(std::string_view in, const run_options& opt = {}, std::size_t max_exhaustive = 4096)
{
    const auto want = run_whole(in, opt);
    const std::size_t step = in.size() <= max_exhaustive ? 1 : std::max<std::size_t>(1, in.size() / 64);
    for (std::size_t i = 0; i <= in.size(); i += step) {
        INFO("split at " << i);
        check_same(run_pieces({in.substr(0, i), in.substr(i)}, opt), want);
    }
    if (in.size() <= max_exhaustive) {
        std::vector<std::string_view> bytes;
        for (std::size_t i = 0; i < in.size(); ++i)
            bytes.push_back(in.substr(i, 1));
        INFO("byte by byte");
        check_same(run_pieces(bytes, opt), want);
    }
    return want;
}

}  // namespace postrider::smtp::test
