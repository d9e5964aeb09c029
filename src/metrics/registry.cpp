#include "metrics/registry.hpp"

#include <fmt/format.h>

namespace postrider::metrics {
namespace {

// number - a sample value: integers without a fraction, others with full precision.
std::string number(double v)
{
    return fmt::format("{}", v);
}

void header(std::string& out, const char* name, const char* type, const char* help)
{
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void render_histogram(std::string& out, const char* name, const std::string& labels, const histogram& h)
{
    const std::string sep = labels.empty() ? "" : ",";
    for (std::size_t i = 0; i < histogram::bounds.size(); ++i)
        out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, number(histogram::bounds[i]),
                           h.buckets[i]);
    out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, h.count);
    const std::string braces = labels.empty() ? "" : "{" + labels + "}";
    out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, number(h.sum), name, braces, h.count);
}

}  // namespace

void histogram::observe(double seconds)
{
    if (seconds < 0) seconds = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i)
        if (seconds <= bounds[i]) ++buckets[i];
    ++count;
    sum += seconds;
}

std::string label_value(const std::string& raw)
{
    std::string out;
    for (char c : raw) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

void registry::delivery(const std::string& result, const std::string& transport, double seconds)
{
    std::lock_guard lock(m_);
    ++deliveries_[{result, transport}];
    delivery_seconds_[transport].observe(seconds);
}

void registry::commit(bool ok, double seconds)
{
    std::lock_guard lock(m_);
    ++commits_[ok];
    if (ok) commit_seconds_.observe(seconds);
}

std::string registry::render(const scrape_sample& s) const
{
    std::lock_guard lock(m_);
    std::string out;
    header(out, "postrider_up", "gauge", "Always 1: the daemon answers");
    out += "postrider_up 1\n";
    header(out, "postrider_ready", "gauge", "1 when accepting mail, 0 while stopping");
    out += fmt::format("postrider_ready {}\n", s.ready ? 1 : 0);

    header(out, "postrider_queue_messages", "gauge", "Messages in the queue");
    out += fmt::format("postrider_queue_messages {}\n", s.messages);
    header(out, "postrider_queue_recipients", "gauge",
           "Undelivered recipients by state (active, ready, deferred) and destination");
    for (const auto& q : s.queue)
        out += fmt::format("postrider_queue_recipients{{state=\"{}\",destination=\"{}\"}} {}\n", label_value(q.state),
                           label_value(q.destination), q.recipients);

    header(out, "postrider_deliveries_total", "counter",
           "Finished delivery attempts per recipient by result (sent, deferred, bounced, expired) and transport");
    for (const auto& [k, n] : deliveries_)
        out += fmt::format("postrider_deliveries_total{{result=\"{}\",transport=\"{}\"}} {}\n", label_value(k.first),
                           label_value(k.second), n);
    header(out, "postrider_delivery_duration_seconds", "histogram", "Duration of one delivery attempt");
    for (const auto& [transport, h] : delivery_seconds_)
        render_histogram(out, "postrider_delivery_duration_seconds", "transport=\"" + label_value(transport) + "\"", h);

    header(out, "postrider_commits_total", "counter", "Messages offered to the queue, by outcome");
    for (const auto& [ok, n] : commits_)
        out += fmt::format("postrider_commits_total{{result=\"{}\"}} {}\n", ok ? "ok" : "failed", n);
    header(out, "postrider_commit_duration_seconds", "histogram",
           "Time to make one accepted message durable (the wait before the 250 reply)");
    render_histogram(out, "postrider_commit_duration_seconds", "", commit_seconds_);

    header(out, "postrider_sessions_active", "gauge", "Inbound SMTP sessions open now");
    out += fmt::format("postrider_sessions_active {}\n", s.sessions_active);
    header(out, "postrider_sessions_total", "counter", "Inbound SMTP sessions since start");
    out += fmt::format("postrider_sessions_total {}\n", s.sessions_total);
    header(out, "postrider_flush_rounds_total", "counter",
           "Group-commit flush rounds (one syncfs each) since start; commits and maildir copies share them");
    out += fmt::format("postrider_flush_rounds_total {}\n", s.flush_rounds);
    return out;
}

}  // namespace postrider::metrics
