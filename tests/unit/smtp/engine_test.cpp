// tests/unit/smtp/engine_test.cpp: server_engine behaviours a session relies on
// (commit hand-off, held input, closing, bounds), and generated abuse inputs.
#include <algorithm>
#include <random>

#include "smtp/esmtp_params.hpp"
#include "support/catch.hpp"
#include "unit/smtp/engine_driver.hpp"

using namespace postrider::smtp;
using namespace postrider::smtp::test;

namespace {

const std::string ehlo_mail_rcpt = "EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<alice@localhost>\r\n";

struct fixture {
    fake_policy policy;
    server_settings settings;
    server_engine engine{settings, policy, "192.0.2.1"};
    fixture() { engine.greet(); engine.take_output(); }
};

// An engine that offers STARTTLS, not greeted yet.
struct starttls_fixture {
    fake_policy policy;
    server_settings settings = [] {
        server_settings s;
        s.starttls = true;
        return s;
    }();
    server_engine engine{settings, policy, "192.0.2.1"};
};

// ends_with - suffix test for reply transcripts.
bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

TEST_CASE("engine: input after end of data is held until commit_done, then processed", "[engine]")
{
    fixture f;
    f.engine.feed(ehlo_mail_rcpt + "DATA\r\nhi\r\n.\r\nNOOP\r\nQUIT\r\n");
    CHECK(f.engine.phase() == input_phase::awaiting_commit);
    CHECK(f.engine.buffered() == 12);  // "NOOP\r\nQUIT\r\n", not processed yet
    const auto before = f.engine.take_output();
    CHECK(ends_with(before, "354 End data with <CR><LF>.<CR><LF>\r\n"));  // no 250 before the commit
    f.engine.feed("MORE\r\n");  // the session should not read now, but if it does: held too
    CHECK(f.engine.buffered() == 18);
    auto m = f.engine.take_message();
    REQUIRE(m);
    CHECK(m->data == "hi\r\n");
    CHECK(m->protocol == "ESMTP");
    CHECK(m->helo == "c.example");
    CHECK_FALSE(f.engine.take_message());
    f.engine.commit_done({true, "ABC", ""});
    CHECK(f.engine.take_output() == "250 2.0.0 Ok: queued as ABC\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
    CHECK(f.engine.closed());
    CHECK(f.engine.buffered() == 0);
}

TEST_CASE("engine: take_message is empty unless a message is waiting", "[engine]")
{
    fixture f;
    CHECK_FALSE(f.engine.take_message());
    f.engine.feed(ehlo_mail_rcpt + "DATA\r\nhi\r\n");
    CHECK(f.engine.phase() == input_phase::data);
    CHECK_FALSE(f.engine.take_message());
}

TEST_CASE("engine: shutdown or timeout during a commit answers the commit first", "[engine]")
{
    for (bool use_timeout : {false, true}) {
        INFO((use_timeout ? "timeout" : "shutdown"));
        fixture f;
        f.engine.feed(ehlo_mail_rcpt + "DATA\r\n.\r\nNOOP\r\n");
        f.engine.take_output();
        REQUIRE(f.engine.phase() == input_phase::awaiting_commit);
        use_timeout ? f.engine.timeout() : f.engine.shutdown();
        CHECK(f.engine.phase() == input_phase::awaiting_commit);
        CHECK(f.engine.take_output().empty());
        REQUIRE(f.engine.take_message());
        f.engine.commit_done({true, "Q1", ""});
        const std::string want_421 = use_timeout ? "421 4.4.2 localhost Error: timeout exceeded\r\n"
                                                 : "421 4.3.2 localhost Service shutting down\r\n";
        CHECK(f.engine.take_output() == "250 2.0.0 Ok: queued as Q1\r\n" + want_421);  // NOOP never read
        CHECK(f.engine.closed());
    }
}

TEST_CASE("engine: peer_closed during a commit; commit_done afterwards is ignored", "[engine]")
{
    fixture f;
    f.engine.feed(ehlo_mail_rcpt + "DATA\r\n.\r\n");
    f.engine.take_output();
    REQUIRE(f.engine.take_message());
    f.engine.peer_closed();
    CHECK(f.engine.closed());
    f.engine.commit_done({true, "Q1", ""});
    CHECK(f.engine.take_output().empty());
    CHECK_FALSE(f.engine.take_message());
}

TEST_CASE("engine: too much input while awaiting commit gives 421 after the commit reply", "[engine]")
{
    fixture f;
    f.engine.feed(ehlo_mail_rcpt + "DATA\r\n.\r\n");
    f.engine.feed(std::string(300 * 1024, 'N'));
    CHECK(f.engine.buffered() == 0);  // dropped, not kept
    REQUIRE(f.engine.take_message());
    f.engine.commit_done({true, "Q1", ""});
    CHECK(ends_with(f.engine.take_output(),
                    "250 2.0.0 Ok: queued as Q1\r\n421 4.7.0 localhost Error: too much pipelined input\r\n"));
    CHECK(f.engine.closed());
    bool logged = false;
    for (const auto& e : f.engine.take_events())
        logged |= e == "close=pipelined_input_overflow";
    CHECK(logged);
}

TEST_CASE("engine: refuse sends one 421 with escaped text and closes", "[engine]")
{
    fake_policy policy;
    server_engine e(server_settings{}, policy, "192.0.2.1");
    e.refuse("too many\r\nconnections");
    CHECK(e.take_output() == "421 4.7.0 localhost too many\\r\\nconnections\r\n");
    CHECK(e.closed());
    e.feed("HELO x\r\n");
    CHECK(e.take_output().empty());
}

TEST_CASE("engine: events escape peer text and stay one line", "[engine]")
{
    fixture f;
    f.engine.feed(std::string("HELO a\x01\"b\r\nRCPT TO:<x>\r\n"));
    const auto events = f.engine.take_events();
    REQUIRE(events.size() == 2);
    CHECK(events[0] == "reject=HELO code=501 dsn=5.5.2 helo=\"a\\x01\\\"b\" reason=\"Error: invalid HELO/EHLO name\"");
    CHECK(events[1] == "reject=RCPT code=503 dsn=5.5.1 reason=\"Error: need MAIL command\"");
    CHECK(f.engine.take_events().empty());
}

TEST_CASE("engine: 10 MB without a newline is one 500, with bounded buffering", "[engine][abuse]")
{
    fixture f;
    const std::string chunk(64 * 1024, 'A');
    for (int i = 0; i < 160; ++i) {
        f.engine.feed(chunk);
        CHECK(f.engine.buffered() < 512);
    }
    CHECK(f.engine.take_output().empty());
    f.engine.feed("\r\nNOOP\r\n");
    CHECK(f.engine.take_output() == "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n");
}

TEST_CASE("engine: 10 MB DATA line without a newline, under and over the size limit", "[engine][abuse]")
{
    for (std::uint64_t limit : {std::uint64_t{20} << 20, std::uint64_t{1} << 20}) {
        INFO("limit " << limit);
        run_options opt;
        opt.settings.max_message_size = limit;
        const std::string big(10u << 20, 'B');
        const auto in = ehlo_mail_rcpt + "DATA\r\n" + big + "\r\n.\r\n";
        const auto r = run_pieces({std::string_view(in).substr(0, 1000), std::string_view(in).substr(1000)}, opt);
        if (limit > big.size()) {
            REQUIRE(r.messages.size() == 1);
            CHECK(r.messages[0].data.size() == big.size() + 2);
            CHECK(ends_with(r.output, "250 2.0.0 Ok: queued as QID1\r\n"));
        } else {
            CHECK(r.messages.empty());
            CHECK(ends_with(r.output, "552 5.3.4 Error: message size exceeds fixed limit\r\n"));
        }
    }
}

TEST_CASE("engine: random binary never breaks the reply format and ends in a close", "[engine][abuse]")
{
    std::mt19937 rng(12345);
    for (int round = 0; round < 20; ++round) {
        std::string in(20000, '\0');
        for (auto& c : in)
            c = static_cast<char>(rng() % 8 == 0 ? '\n' : rng() & 0xff);
        const auto r = grind(in, {}, 0);  // 64 split points each
        CHECK(replies_well_formed(r.output));
        CHECK(r.final_phase == input_phase::closed);  // hard error limit
        for (const auto& m : r.messages)
            CHECK(crlf_clean(m.data));
    }
}

TEST_CASE("engine: 10,000 RSETs cost nothing that grows", "[engine][abuse]")
{
    fixture f;
    f.engine.feed("EHLO c.example\r\n");
    f.engine.take_output();
    for (int i = 0; i < 10000; ++i) {
        f.engine.feed("MAIL FROM:<a@example.org>\r\nRCPT TO:<alice@localhost>\r\nRSET\r\n");
        REQUIRE(f.engine.take_output() == "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n");
    }
    CHECK(f.engine.buffered() == 0);
    CHECK(f.engine.take_events().empty());
    CHECK(f.engine.phase() == input_phase::command);
}

TEST_CASE("engine: replies to one pipelined feed come out in one take_output", "[engine]")
{
    fixture f;
    f.engine.feed("EHLO c.example\r\nNOOP\r\nNOOP\r\n");
    const auto out = f.engine.take_output();
    CHECK(ends_with(out, "250-CHUNKING\r\n250 DSN\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"));
    CHECK(f.engine.take_output().empty());
}

TEST_CASE("engine: the accepted message carries the envelope and parameters", "[engine]")
{
    const auto r = run_whole("EHLO c.example\r\nMAIL FROM:<a@example.org> BODY=8BITMIME SMTPUTF8 RET=FULL "
                             "ENVID=e1\r\nRCPT TO:<alice@localhost> NOTIFY=FAILURE ORCPT=rfc822;alice+40x.example\r\n"
                             "BDAT 3 LAST\r\nabc");
    REQUIRE(r.messages.size() == 1);
    const auto& m = r.messages[0];
    CHECK(m.sender == "a@example.org");
    CHECK(m.body_8bit);
    CHECK(m.smtputf8);
    CHECK(m.ret_full);
    CHECK(m.envid == "e1");
    REQUIRE(m.recipients.size() == 1);
    CHECK(m.recipients[0].address == "alice@localhost");
    CHECK(m.recipients[0].notify == notify_failure);
    CHECK(m.recipients[0].orcpt == "rfc822;alice@x.example");
    CHECK(m.data == "abc\r\n");
}

TEST_CASE("engine: hard_error_limit counts errors like Postfix (not 452 overshoot, not 451)", "[engine]")
{
    run_options opt;
    opt.settings.hard_error_limit = 2;
    const auto r = run_whole("HELO x.example\r\nXX\r\nNOOP\r\nYY\r\nNOOP\r\n", opt);
    CHECK(ends_with(r.output, "500 5.5.2 Error: command not recognized\r\n421 4.7.0 localhost Error: too many errors\r\n"));
    CHECK(r.final_phase == input_phase::closed);
    const auto t = run_whole("HELO x.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<a@tempfail.test>\r\n"
                             "RCPT TO:<b@tempfail.test>\r\nRCPT TO:<c@tempfail.test>\r\n", opt);
    CHECK(t.final_phase != input_phase::closed);
}

TEST_CASE("engine: a commit refused for lack of storage is 452 4.3.1, other failures 451 4.3.0", "[engine]")
{
    for (bool storage : {true, false}) {
        fixture f;
        f.engine.feed(ehlo_mail_rcpt + "DATA\r\nhi\r\n.\r\nNOOP\r\n");
        REQUIRE(f.engine.take_message());
        (void)f.engine.take_output();
        f.engine.commit_done({false, "Q1", storage ? "Insufficient system storage" : "Queue file write error", storage});
        const auto out = f.engine.take_output();
        if (storage)
            CHECK(out == "452 4.3.1 Insufficient system storage\r\n250 2.0.0 Ok\r\n");
        else
            CHECK(out == "451 4.3.0 Error: Queue file write error\r\n250 2.0.0 Ok\r\n");
        CHECK_FALSE(f.engine.closed());
        const auto events = f.engine.take_events();
        CHECK(std::find_if(events.begin(), events.end(), [](const std::string& e) {
                  return e.find("commit=failed") != std::string::npos;
              }) != events.end());
    }
}

TEST_CASE("engine: STARTTLS leaves nothing buffered and the message says ESMTPS", "[engine][tls]")
{
    starttls_fixture f;
    auto& e = f.engine;
    e.greet();
    e.feed("EHLO c.example\r\nSTARTTLS\r\nRSET\r\nMAIL FROM:<x@y.example>\r\nRC");
    CHECK(e.phase() == input_phase::starttls);
    CHECK(e.buffered() == 0);  // what the session checks before the handshake (CVE-2011-0411)
    CHECK_FALSE(e.tls_active());
    CHECK(ends_with(e.take_output(), "250 DSN\r\n220 2.0.0 Ready to start TLS\r\n"));  // RSET unanswered
    e.feed("PT TO:<alice@localhost>\r\n");
    CHECK(e.take_output().empty());
    e.tls_started();
    CHECK(e.tls_active());
    CHECK(e.phase() == input_phase::command);
    const auto events = e.take_events();
    CHECK(std::find(events.begin(), events.end(), "protocol=pipelined_after_starttls discarded=58") != events.end());
    e.feed(ehlo_mail_rcpt + "DATA\r\nhi\r\n.\r\n");
    const auto out = e.take_output();
    CHECK(out.find("STARTTLS") == std::string::npos);  // RFC 3207 4.2: not offered again
    auto m = e.take_message();
    REQUIRE(m);
    CHECK(m->protocol == "ESMTPS");
    CHECK(m->sender == "a@example.org");
}

TEST_CASE("engine: implicit TLS is active from the greeting and offers no STARTTLS", "[engine][tls]")
{
    starttls_fixture f;
    auto& e = f.engine;
    e.tls_started();
    e.greet();
    e.feed("HELO c.example\r\nSTARTTLS\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@localhost>\r\nDATA\r\nx\r\n.\r\n");
    const auto out = e.take_output();
    CHECK(out.rfind("220 localhost ESMTP postrider\r\n", 0) == 0);
    CHECK(out.find("554 5.5.1 Error: TLS already active\r\n") != std::string::npos);
    auto m = e.take_message();
    REQUIRE(m);
    CHECK(m->protocol == "SMTP");  // HELO: RFC 3848 has no TLS name for plain SMTP
}
