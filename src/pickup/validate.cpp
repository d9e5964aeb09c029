// pickup/validate.cpp: PURE maildrop message validation (see validate.hpp).
#include "pickup/validate.hpp"

#include <array>
#include <cstdio>

#include "core/escape.hpp"
#include "core/limits.hpp"
#include "core/verp.hpp"
#include "smtp/address.hpp"

namespace postrider::pickup {
namespace {

// date_text - RFC 5322 date in UTC, for the trace header.
std::string date_text(std::time_t when)
{
    static constexpr std::array<const char*, 12> mon = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static constexpr std::array<const char*, 7> day = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    std::tm tm{};
    ::gmtime_r(&when, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", day[static_cast<std::size_t>(tm.tm_wday)],
                  tm.tm_mday, mon[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

// trace_header - "Received: by HOST (postrider, from userid N) [with PROTO] id ID; date";
//                with hide_client: "Received: by HOST (postrider) [with PROTO] id ID; date"
//                (the uid and HELO stay in the pickup log line).
std::string trace_header(const dropped_message& m, const drop_origin& o)
{
    std::string h = "Received: ";
    if (!m.helo.empty() && !o.hide_client) h += "from " + core::escape(m.helo) + " ";
    h += "by " + core::escape(o.our_host) + " (postrider";
    if (!o.hide_client) h += ", from userid " + std::to_string(o.owner_uid);
    h += ")\r\n\t";
    if (m.protocol != "local") h += "with " + m.protocol + " ";
    h += "id " + o.queue_id + "; " + date_text(o.now) + "\r\n";
    return h;
}

// check_fields - envelope fields other than addresses; empty when fine.
std::string check_fields(const dropped_message& m)
{
    if (m.protocol != "local" && m.protocol != "SMTP" && m.protocol != "ESMTP") return "unknown protocol";
    if (!m.helo.empty() && !smtp::parse_helo_name(m.helo)) return "invalid HELO name";
    if (m.envid.size() > 100) return "ENVID longer than 100 octets";
    for (char c : m.envid)
        if (c < 33 || c > 126) return "ENVID with a non-printable octet";
    return {};
}

}  // namespace

std::string check_content(std::string_view content)
{
    if (content.empty()) return "empty message";
    std::size_t line = 0;
    for (std::size_t i = 0; i < content.size(); ++i) {
        const char c = content[i];
        if (c == '\0') return "NUL octet in the message";
        if (c == '\r') {
            if (i + 1 >= content.size() || content[i + 1] != '\n') return "bare CR in the message";
            ++i;
            line = 0;
            continue;
        }
        if (c == '\n') return "bare LF in the message";
        if (++line > limits::data_line_octets) return "line too long";
    }
    if (content.size() < 2 || content.substr(content.size() - 2) != "\r\n") return "last line not terminated";
    return {};
}

validated_drop validate_drop(dropped_message m, const drop_limits& limits, const drop_origin& origin)
{
    if (auto why = check_fields(m); !why.empty()) return {std::nullopt, why};
    if (auto why = check_content(m.content); !why.empty()) return {std::nullopt, why};
    if (limits.max_size != 0 && m.content.size() > limits.max_size) return {std::nullopt, "message larger than message_size_limit"};
    if (m.recipients.empty()) return {std::nullopt, "no recipients"};
    if (limits.max_recipients != 0 && m.recipients.size() > limits.max_recipients)
        return {std::nullopt, "more recipients than recipient_limit"};

    queue::new_message out;
    if (!m.sender.empty()) {
        auto p = smtp::parse_reverse_path("<" + m.sender + ">", m.smtputf8);
        if (!p.ok() || !p.box) return {std::nullopt, "invalid sender " + core::escape(m.sender)};
        out.sender = p.box->str();
    }
    for (const auto& r : m.recipients) {
        auto p = smtp::parse_forward_path("<" + r.address + ">", m.smtputf8, origin.our_host);
        if (!p.ok() || !p.box) return {std::nullopt, "invalid recipient " + core::escape(r.address)};
        if (r.notify > 15) return {std::nullopt, "invalid NOTIFY bits"};
        out.recipients.push_back({p.box->str(), {}, r.notify});
    }
    out.trace = trace_header(m, origin);
    out.content = std::move(m.content);  // m is ours (by value); the trace is stored in front
    out.client = "localhost";  // local submission: no network peer
    out.helo = m.helo.empty() ? "localhost" : core::escape(m.helo);
    out.protocol = m.protocol == "local" ? "local" : m.protocol;
    out.body_8bit = m.body_8bit;
    out.smtputf8 = m.smtputf8;
    out.envid = m.envid;
    out.ret_full = m.ret_full;
    if (m.verp) {
        out.verp_delimiters = m.verp_delimiters.empty() ? limits.verp_delimiters : m.verp_delimiters;
        if (!core::valid_verp_delimiters(out.verp_delimiters)) return {std::nullopt, "invalid VERP delimiters"};
    } else if (!m.verp_delimiters.empty()) {
        return {std::nullopt, "VERP delimiters without the VERP flag"};
    }
    return {std::move(out), {}};
}

void masquerade_drop(queue::new_message& m, const core::masquerade_rules& r)
{
    if (r.empty()) return;
    if (r.classes & core::masq_envelope_sender)
        if (auto a = core::masquerade_address(m.sender, r)) m.sender = std::move(*a);
    if (auto h = core::masquerade_header(std::string_view(m.content).substr(m.content_skip), r)) {
        m.trace += h->header;
        m.content_skip += h->replaced;
    }
}

}  // namespace postrider::pickup
