// queue/bounce.cpp: PURE DSN text (RFC 3464).
#include "queue/bounce.hpp"

#include <fmt/format.h>

#include <chrono>

namespace postrider::queue {
namespace {

// field - a value safe for one header/DSN line.
std::string field(std::string_view v)
{
    std::string out;
    for (char c : v)
        if (c != '\r' && c != '\n' && c != '\0') out += c;
    return out;
}

// human_part - the first, human-readable part of the report.
std::string human_part(const bounce_input& in)
{
    std::string s = fmt::format(
        "This is the mail system at host {}.\r\n\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients. It's attached below.\r\n\r\n",
        field(in.hostname));
    for (const auto& r : in.recipients)
        s += fmt::format("<{}>: {}\r\n", field(r.address), field(r.diagnostic));
    return s;
}

// status_part - the message/delivery-status fields (RFC 3464 2.2, 2.3).
std::string status_part(const bounce_input& in)
{
    std::string s = fmt::format("Reporting-MTA: dns; {}\r\nX-Postrider-Queue-ID: {}\r\n",
                                field(in.hostname), field(in.queue_id));
    if (!in.envid.empty()) s += fmt::format("Original-Envelope-Id: {}\r\n", field(in.envid));
    s += fmt::format("Arrival-Date: {}\r\n", rfc5322_date(in.arrival_unix));
    for (const auto& r : in.recipients) {
        s += "\r\n";
        // RFC 3461 4.2: ORCPT is "addr-type;address"; bare addresses get rfc822.
        if (!r.orcpt.empty())
            s += fmt::format("Original-Recipient: {}{}\r\n",
                             r.orcpt.find(';') == std::string::npos ? "rfc822; " : "", field(r.orcpt));
        s += fmt::format("Final-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: {}\r\n"
                         "Diagnostic-Code: X-Postrider; {}\r\nLast-Attempt-Date: {}\r\n",
                         field(r.address), field(r.status), field(r.diagnostic),
                         rfc5322_date(in.now_unix));
    }
    return s;
}

}  // namespace

std::string rfc5322_date(std::int64_t unix_seconds)
{
    using namespace std::chrono;
    static constexpr const char* wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    sys_seconds t{seconds{unix_seconds}};
    auto day = floor<days>(t);
    year_month_day ymd{day};
    hh_mm_ss hms{t - day};
    return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", wd[weekday{day}.c_encoding()],
                       static_cast<unsigned>(ymd.day()), mon[static_cast<unsigned>(ymd.month()) - 1],
                       static_cast<int>(ymd.year()), hms.hours().count(), hms.minutes().count(),
                       hms.seconds().count());
}

std::string_view header_section(std::string_view message)
{
    if (message.starts_with("\r\n")) return {};
    auto end = message.find("\r\n\r\n");
    if (end == std::string_view::npos) return message;
    return message.substr(0, end + 2);
}

std::string compose_bounce(const bounce_input& in)
{
    const std::string boundary = fmt::format("{}.{}/{}", field(in.queue_id), in.now_unix, field(in.hostname));
    std::string m = fmt::format(
        "From: Mail Delivery System <MAILER-DAEMON@{host}>\r\n"
        "To: <{to}>\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: {date}\r\n"
        "Message-ID: <{mid}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        "\tboundary=\"{b}\"\r\n"
        "\r\n"
        "This is a MIME-encapsulated message.\r\n\r\n",
        fmt::arg("host", field(in.hostname)), fmt::arg("to", field(in.original_sender)),
        fmt::arg("date", rfc5322_date(in.now_unix)), fmt::arg("mid", field(in.message_id)),
        fmt::arg("b", boundary));
    m += fmt::format("--{}\r\nContent-Description: Notification\r\n"
                     "Content-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
    m += human_part(in);
    m += fmt::format("\r\n--{}\r\nContent-Description: Delivery report\r\n"
                     "Content-Type: message/delivery-status\r\n\r\n", boundary);
    m += status_part(in);
    if (in.ret_full) {
        m += fmt::format("\r\n--{}\r\nContent-Description: Undelivered Message\r\n"
                         "Content-Type: message/rfc822\r\n\r\n", boundary);
        m += in.original;
        if (!in.original.empty() && !in.original.ends_with("\r\n")) m += "\r\n";
    } else {
        m += fmt::format("\r\n--{}\r\nContent-Description: Undelivered Message Headers\r\n"
                         "Content-Type: text/rfc822-headers\r\n\r\n", boundary);
        m += header_section(in.original);
    }
    m += fmt::format("\r\n--{}--\r\n", boundary);
    return m;
}

}  // namespace postrider::queue
