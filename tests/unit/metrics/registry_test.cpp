#include "support/catch.hpp"

#include "metrics/registry.hpp"

#include <string>

using namespace postrider::metrics;

namespace {
bool has_line(const std::string& text, const std::string& line)
{
    return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}
}  // namespace

TEST_CASE("histogram buckets are cumulative", "[metrics]")
{
    histogram h;
    h.observe(0.0005);
    h.observe(0.03);
    h.observe(100);
    h.observe(-1);  // clamps to 0
    CHECK(h.count == 4);
    CHECK(h.buckets.front() == 2);   // <= 0.001: 0.0005 and the clamped 0
    CHECK(h.buckets[5] == 3);        // <= 0.05
    CHECK(h.buckets.back() == 3);    // <= 10: 100 is only in +Inf
    CHECK(h.sum == Approx(100.0305));
}

TEST_CASE("render writes every family with HELP, TYPE and labelled samples", "[metrics]")
{
    registry r;
    r.delivery("sent", "local", 0.02);
    r.delivery("sent", "local", 0.2);
    r.delivery("deferred", "remote", 3);
    r.commit(true, 0.004);
    r.commit(false, 1);
    scrape_sample s;
    s.messages = 2;
    s.sessions_active = 1;
    s.sessions_total = 9;
    s.flush_rounds = 4;
    s.queue = {{"deferred", "far.example", 1}, {"active", "local", 1}};
    const auto text = r.render(s);
    CHECK(has_line(text, "# TYPE postrider_deliveries_total counter"));
    CHECK(has_line(text, R"(postrider_deliveries_total{result="sent",transport="local"} 2)"));
    CHECK(has_line(text, R"(postrider_deliveries_total{result="deferred",transport="remote"} 1)"));
    CHECK(has_line(text, R"(postrider_delivery_duration_seconds_bucket{transport="local",le="0.025"} 1)"));
    CHECK(has_line(text, R"(postrider_delivery_duration_seconds_bucket{transport="local",le="+Inf"} 2)"));
    CHECK(has_line(text, R"(postrider_delivery_duration_seconds_count{transport="remote"} 1)"));
    CHECK(has_line(text, R"(postrider_commits_total{result="ok"} 1)"));
    CHECK(has_line(text, R"(postrider_commits_total{result="failed"} 1)"));
    CHECK(has_line(text, R"(postrider_commit_duration_seconds_bucket{le="0.005"} 1)"));
    CHECK(has_line(text, "postrider_commit_duration_seconds_count 1"));
    CHECK(has_line(text, R"(postrider_queue_recipients{state="deferred",destination="far.example"} 1)"));
    CHECK(has_line(text, "postrider_queue_messages 2"));
    CHECK(has_line(text, "postrider_sessions_active 1"));
    CHECK(has_line(text, "postrider_sessions_total 9"));
    CHECK(has_line(text, "postrider_flush_rounds_total 4"));
    CHECK(has_line(text, "postrider_ready 1"));
    CHECK(text.back() == '\n');
}

TEST_CASE("label values are escaped", "[metrics]")
{
    CHECK(label_value(R"(a"b\c)") == R"(a\"b\\c)");
    CHECK(label_value("x\ny") == "x\\ny");
    registry r;
    scrape_sample s;
    s.ready = false;
    s.queue = {{"ready", "we\"ird", 3}};
    const auto text = r.render(s);
    CHECK(has_line(text, R"(postrider_queue_recipients{state="ready",destination="we\"ird"} 3)"));
    CHECK(has_line(text, "postrider_ready 0"));
}
