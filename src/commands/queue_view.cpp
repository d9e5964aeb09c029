// commands/queue_view.cpp: PURE queue views (see queue_view.hpp).
#include "commands/queue_view.hpp"

#include <fmt/format.h>

#include <cctype>

#include "core/escape.hpp"

namespace postrider::commands {
namespace {

std::string lower(std::string s)
{
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool final_state(rcpt_state s) { return s == rcpt_state::delivered || s == rcpt_state::failed; }

// domain_of - the part after the last '@', lower-cased.
std::string domain_of(const std::string& a)
{
    auto at = a.rfind('@');
    return at == std::string::npos ? std::string{} : lower(a.substr(at + 1));
}

}  // namespace

message_view view_of(const queue::env_file& f)
{
    message_view m;
    m.id = f.env.queue_id;
    m.sender = f.env.sender;
    m.arrival_us = f.env.arrival_us;
    m.size = f.env.message_size;
    m.is_bounce = f.env.is_bounce || f.env.is_double_bounce;
    for (const auto& r : f.env.recipients) m.rcpts.push_back({r.address, rcpt_state::pending, 0, {}, {}, 0});
    for (const auto& o : f.journal) {
        if (o.recipient >= m.rcpts.size()) continue;  // decode_env_file already refuses these
        auto& r = m.rcpts[o.recipient];
        r.state = o.kind == queue::outcome_kind::delivered ? rcpt_state::delivered
                  : o.kind == queue::outcome_kind::failed  ? rcpt_state::failed
                                                            : rcpt_state::deferred;
        r.attempts = o.attempts;
        r.status = o.status;
        r.reason = o.reason;
        r.next_attempt_us = o.next_attempt_us;
    }
    return m;
}

const char* state_name(rcpt_state s) noexcept
{
    switch (s) {
    case rcpt_state::pending: return "pending";
    case rcpt_state::deferred: return "deferred";
    case rcpt_state::delivered: return "delivered";
    case rcpt_state::failed: return "failed";
    }
    return "unknown";
}

std::string list_header()
{
    return "-Queue ID-------- --Size-- ----Arrival Time---- -Sender/Recipient-------\n";
}

std::string list_entry(const message_view& m, const std::string& arrival)
{
    const std::string pad(39, ' ');
    std::string out = fmt::format("{:<17} {:>8} {:<20} {}\n", m.id, m.size, arrival,
                                  m.sender.empty() ? std::string("MAILER-DAEMON") : core::escape(m.sender));
    for (const auto& r : m.rcpts) {
        if (!r.status.empty() || !r.reason.empty())
            out += fmt::format("{}  ({}{}{})\n", pad, core::escape(r.status), r.reason.empty() ? "" : " ",
                               core::escape(r.reason, 200));
        out += fmt::format("{}  {}", pad, core::escape(r.address));
        if (r.state != rcpt_state::pending) out += fmt::format("  [{}]", state_name(r.state));
        out += "\n";
    }
    return out + "\n";
}

std::string list_footer(std::size_t messages, std::uint64_t bytes)
{
    if (messages == 0) return "Mail queue is empty\n";
    return fmt::format("-- {} Kbytes in {} Request{}.\n", (bytes + 1023) / 1024, messages, messages == 1 ? "" : "s");
}

std::string json_string(std::string_view s)
{
    std::string out = "\"";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\u{:04x}", c);
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string json_entry(const message_view& m)
{
    std::string out = fmt::format("{{\"queue_id\":{},\"size\":{},\"arrival_time\":{},\"sender\":{},\"bounce\":{},\"recipients\":[",
                                  json_string(m.id), m.size, m.arrival_us / 1000000, json_string(m.sender),
                                  m.is_bounce ? "true" : "false");
    for (std::size_t i = 0; i < m.rcpts.size(); ++i) {
        const auto& r = m.rcpts[i];
        out += fmt::format("{}{{\"address\":{},\"state\":\"{}\",\"attempts\":{},\"status\":{},\"reason\":{},\"next_attempt\":{}}}",
                           i ? "," : "", json_string(r.address), state_name(r.state), r.attempts,
                           json_string(r.status), json_string(r.reason), r.next_attempt_us / 1000000);
    }
    return out + "]}\n";
}

void add_to_stats(queue_stats& st, const message_view& m)
{
    ++st.messages;
    if (m.is_bounce) ++st.bounces;
    st.bytes += m.size;
    if (st.oldest_arrival_us == 0 || m.arrival_us < st.oldest_arrival_us) st.oldest_arrival_us = m.arrival_us;
    for (const auto& r : m.rcpts) {
        ++st.by_state[state_name(r.state)];
        if (!final_state(r.state)) ++st.by_destination[domain_of(r.address)];
    }
}

std::string stats_text(const queue_stats& st)
{
    std::string out = fmt::format("messages: {}\nbounces: {}\nbytes: {}\n", st.messages, st.bounces, st.bytes);
    for (const char* s : {"pending", "deferred", "delivered", "failed"}) {
        auto it = st.by_state.find(s);
        out += fmt::format("recipients {}: {}\n", s, it == st.by_state.end() ? 0 : it->second);
    }
    for (const auto& [domain, n] : st.by_destination) out += fmt::format("destination {}: {}\n", core::escape(domain), n);
    return out;
}

bool matches_filter(const message_view& m, const std::string& sender, const std::string& rcpt_domain)
{
    if (!sender.empty()) {
        const std::string want = sender == "<>" ? std::string{} : lower(sender);
        if (lower(m.sender) != want) return false;
    }
    if (!rcpt_domain.empty()) {
        bool any = false;
        for (const auto& r : m.rcpts)
            if (!final_state(r.state) && domain_of(r.address) == lower(rcpt_domain)) any = true;
        if (!any) return false;
    }
    return true;
}

}  // namespace postrider::commands
