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
    bool implicit_tls = false;  // tls_started() before greet()
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

// fake_auth - the session's password check: alice/secret is good (may send as
//             alice@localhost), user "tempfail" fails temporarily, "flood" hit the rate limit.
inline auth_outcome fake_auth(const auth_request& a)
{
    const auto& c = a.credentials;
    if (c.authcid == "tempfail")
        return {auth_outcome::result::temp_failure, {}};
    if (c.authcid == "flood")
        return {auth_outcome::result::too_many_failures, {}};
    if (c.authcid == "alice" && c.password == "secret" && (c.authzid.empty() || c.authzid == "alice"))
        return {auth_outcome::result::ok, {"alice@localhost"}};
    return {auth_outcome::result::invalid, {}};
}

// settle - answer every completed message the way the session does (take, commit),
//          and every finished AUTH exchange (take_auth, auth_done).
inline void settle(server_engine& e, const run_options& opt, run_result& r)
{
    while (e.phase() == input_phase::awaiting_commit || e.phase() == input_phase::awaiting_auth) {
        if (e.phase() == input_phase::awaiting_auth) {
            auto a = e.take_auth();
            REQUIRE(a.has_value());
            CHECK_FALSE(e.take_auth().has_value());  // once only
            e.auth_done(fake_auth(*a));
            continue;
        }
        auto m = e.take_message();
        REQUIRE(m.has_value());
        CHECK_FALSE(e.take_message().has_value());  // once only
        r.messages.push_back(std::move(*m));
        const auto id = "QID" + std::to_string(r.messages.size());
        e.commit_done(commit_outcome{opt.commit_ok, id, "disk full"});
    }
}

// A client stream in segments: between two segments the TLS handshake happens
// (if the engine is waiting for it), so each segment is one side of a STARTTLS.
using segments = std::vector<std::vector<std::string_view>>;

// run_segments - greet, feed each piece in order (settling commits), complete a
//                STARTTLS between segments, then the end action.
inline run_result run_segments(const segments& parts, const run_options& opt)
{
    fake_policy policy;
    server_engine e(opt.settings, policy, "192.0.2.1");
    run_result r;
    if (opt.implicit_tls)
        e.tls_started();
    e.greet();
    for (std::size_t s = 0; s < parts.size(); ++s) {
        if (s > 0 && e.phase() == input_phase::starttls)
            e.tls_started();
        for (auto p : parts[s]) {
            e.feed(p);
            settle(e, opt, r);
            r.output += e.take_output();
        }
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

// run_pieces - one segment: no TLS handshake happens.
inline run_result run_pieces(const std::vector<std::string_view>& pieces, const run_options& opt)
{
    return run_segments({pieces}, opt);
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

// grind_segments - each segment split at every point (a|b), the others whole, and
//                  everything byte by byte; each run must equal the one-feed-per-segment run.
//                  Segments over max_exhaustive octets get 64 evenly spaced split points instead.
inline run_result grind_segments(const std::vector<std::string_view>& in, const run_options& opt = {},
                                 std::size_t max_exhaustive = 4096)
{
    segments whole;
    std::size_t total = 0;
    for (auto s : in) {
        whole.push_back({s});
        total += s.size();
    }
    const auto want = run_segments(whole, opt);
    for (std::size_t k = 0; k < in.size(); ++k) {
        const auto seg = in[k];
        const std::size_t step = seg.size() <= max_exhaustive ? 1 : std::max<std::size_t>(1, seg.size() / 64);
        for (std::size_t i = 0; i <= seg.size(); i += step) {
            INFO("segment " << k << " split at " << i);
            auto parts = whole;
            parts[k] = {seg.substr(0, i), seg.substr(i)};
            check_same(run_segments(parts, opt), want);
        }
    }
    if (total <= max_exhaustive) {
        segments bytes;
        for (auto s : in) {
            bytes.emplace_back();
            for (std::size_t i = 0; i < s.size(); ++i)
                bytes.back().push_back(s.substr(i, 1));
        }
        INFO("byte by byte");
        check_same(run_segments(bytes, opt), want);
    }
    return want;
}

// grind - one segment (no STARTTLS handshake), see grind_segments.
inline run_result grind(std::string_view in, const run_options& opt = {}, std::size_t max_exhaustive = 4096)
{
    return grind_segments({in}, opt, max_exhaustive);
}

}  // namespace postrider::smtp::test
