// tests/unit/sendmail/queue_view_test.cpp: journal replay and the mailq / JSON / stats layouts.
#include "support/catch.hpp"

#include "commands/queue_view.hpp"

using namespace postrider;
using namespace postrider::commands;

namespace {
queue::env_file sample()
{
    queue::env_file f;
    f.env.queue_id = "1K120R34C8PAGYR6";
    f.env.sender = "joe@example.org";
    f.env.recipients = {{"a@localhost", "", 0}, {"b@remote.example", "", 0}, {"c@remote.example", "", 0}};
    f.env.arrival_us = 1736240703000000;
    f.env.message_size = 2048;
    f.journal.push_back({0, queue::outcome_kind::deferred, 1, 2, 1, "4.2.0", "disk"});
    f.journal.push_back({0, queue::outcome_kind::delivered, 3, 0, 2, "2.0.0", ""});
    f.journal.push_back({1, queue::outcome_kind::deferred, 4, 1736244303000000, 1, "4.4.1", "remote \"down\"\n"});
    return f;
}
}  // namespace

TEST_CASE("queue view: the last journal record per recipient wins")
{
    auto v = view_of(sample());
    REQUIRE(v.rcpts.size() == 3);
    CHECK(v.rcpts[0].state == rcpt_state::delivered);
    CHECK(v.rcpts[0].attempts == 2);
    CHECK(v.rcpts[1].state == rcpt_state::deferred);
    CHECK(v.rcpts[1].status == "4.4.1");
    CHECK(v.rcpts[2].state == rcpt_state::pending);
}

TEST_CASE("queue view: mailq layout (Postfix-like), reasons escaped")
{
    auto text = list_entry(view_of(sample()), "Tue Jan  7 09:05:03");
    const std::string pad(41, ' ');
    CHECK(text == "1K120R34C8PAGYR6      2048 Tue Jan  7 09:05:03  joe@example.org\n" +
                      pad + "(2.0.0)\n" + pad + "a@localhost  [delivered]\n" +
                      pad + "(4.4.1 remote \\\"down\\\"\\n)\n" + pad + "b@remote.example  [deferred]\n" +
                      pad + "c@remote.example\n\n");
    CHECK(list_footer(0, 0) == "Mail queue is empty\n");
    CHECK(list_footer(2, 3000) == "-- 3 Kbytes in 2 Requests.\n");
}

TEST_CASE("queue view: JSON, one object per line, control bytes escaped")
{
    auto j = json_entry(view_of(sample()));
    CHECK(j.back() == '\n');
    CHECK(j.find('\n') == j.size() - 1);
    CHECK(j.find("\"queue_id\":\"1K120R34C8PAGYR6\"") != std::string::npos);
    CHECK(j.find("\"reason\":\"remote \\\"down\\\"\\u000a\"") != std::string::npos);
    CHECK(j.find("\"state\":\"deferred\",\"attempts\":1") != std::string::npos);
    CHECK(json_string("a\x01") == "\"a\\u0001\"");
}

TEST_CASE("queue view: stats and delete filters")
{
    queue_stats st;
    add_to_stats(st, view_of(sample()));
    CHECK(st.messages == 1);
    CHECK(st.by_state["delivered"] == 1);
    CHECK(st.by_destination["remote.example"] == 2);
    CHECK(st.by_destination.count("localhost") == 0);  // delivered recipients are not waiting
    auto v = view_of(sample());
    CHECK(matches_filter(v, "JOE@example.org", ""));
    CHECK_FALSE(matches_filter(v, "other@example.org", ""));
    CHECK(matches_filter(v, "", "Remote.Example"));
    CHECK_FALSE(matches_filter(v, "", "localhost"));
    v.sender.clear();
    CHECK(matches_filter(v, "<>", ""));
}
