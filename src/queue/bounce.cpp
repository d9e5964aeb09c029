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

// action - RFC 3464 2.3.3 Action field for this kind of report.
const char* action(report_kind k)
{
    switch (k) {
    case report_kind::delay: return "delayed";
    case report_kind::success: return "delivered";
    case report_kind::failure:
    case report_kind::double_bounce: break;
    }
    return "failed";
}

// subject - the Subject: of the report (Postfix's wording, which users and filters know).
const char* subject(report_kind k)
{
    switch (k) {
    case report_kind::delay: return "Delayed Mail (still being retried)";
    case report_kind::success: return "Successful Mail Delivery Report";
    case report_kind::double_bounce: return "Postmaster Copy: Undelivered Mail";
    case report_kind::failure: break;
    }
    return "Undelivered Mail Returned to Sender";
}

// intro - the kind-specific paragraph of the human-readable part.
std::string intro(const bounce_input& in)
{
    switch (in.kind) {
    case report_kind::delay:
        return fmt::format(
            "####################################################################\r\n"
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n"
            "####################################################################\r\n\r\n"
            "Your message could not be delivered for {:.1f} hours.\r\n"
            "It will be retried until {}.\r\n\r\n",
            static_cast<double>(in.now_unix - in.arrival_unix) / 3600.0, rfc5322_date(in.expiry_unix));
    case report_kind::success:
        return "Your message was successfully delivered to the destination(s)\r\n"
               "listed below. If the message was delivered to a mailbox you will\r\n"
               "receive no further notifications.\r\n\r\n";
    case report_kind::double_bounce:
        return "A delivery status notification (a bounce, from <>) could not\r\n"
               "be delivered. It is attached below; it will not be retried.\r\n\r\n";
    case report_kind::failure: break;
    }
    return "I'm sorry to have to inform you that your message could not\r\n"
           "be delivered to one or more recipients. It's attached below.\r\n\r\n";
}

// human_part - the first, human-readable part of the report.
std::string human_part(const bounce_input& in)
{
    std::string s = fmt::format("This is the mail system at host {}.\r\n\r\n", field(in.hostname));
    s += intro(in);
    for (const auto& r : in.recipients)
        s += fmt::format("<{}>: {}\r\n", field(r.address), field(r.diagnostic));
    return s;
}

// attachment_title - Content-Description of the third part (plus " Headers" when headers only).
const char* attachment_title(report_kind k)
{
    switch (k) {
    case report_kind::delay: return "Delayed Message";
    case report_kind::success: return "Delivered Message";
    case report_kind::double_bounce: return "Undelivered Bounce";
    case report_kind::failure: break;
    }
    return "Undelivered Message";
}

// returns_full - RFC 3461 4.3: RET=FULL only for failure reports; a double bounce always
//                carries the whole bounce (it is for the admin, like Postfix's postmaster copy).
bool returns_full(const bounce_input& in)
{
    if (in.kind == report_kind::double_bounce) return true;
    return in.kind == report_kind::failure && in.ret_full;
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
        s += fmt::format("Final-Recipient: rfc822; {}\r\nAction: {}\r\nStatus: {}\r\n"
                         "Diagnostic-Code: X-Postrider; {}\r\nLast-Attempt-Date: {}\r\n",
                         field(r.address), action(in.kind), field(r.status), field(r.diagnostic),
                         rfc5322_date(in.now_unix));
        // RFC 3464 2.3.9: how long we keep trying, for a delayed recipient.
        if (in.kind == report_kind::delay)
            s += fmt::format("Will-Retry-Until: {}\r\n", rfc5322_date(in.expiry_unix));
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
        "Subject: {subject}\r\n"
        "Date: {date}\r\n"
        "Message-ID: <{mid}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        "\tboundary=\"{b}\"\r\n"
        "\r\n"
        "This is a MIME-encapsulated message.\r\n\r\n",
        fmt::arg("host", field(in.hostname)), fmt::arg("to", field(in.report_to.empty() ? in.original_sender : in.report_to)),
        fmt::arg("subject", subject(in.kind)),
        fmt::arg("date", rfc5322_date(in.now_unix)), fmt::arg("mid", field(in.message_id)),
        fmt::arg("b", boundary));
    m += fmt::format("--{}\r\nContent-Description: Notification\r\n"
                     "Content-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
    m += human_part(in);
    m += fmt::format("\r\n--{}\r\nContent-Description: Delivery report\r\n"
                     "Content-Type: message/delivery-status\r\n\r\n", boundary);
    m += status_part(in);
    const char* what = attachment_title(in.kind);
    if (returns_full(in)) {
        m += fmt::format("\r\n--{}\r\nContent-Description: {}\r\n"
                         "Content-Type: message/rfc822\r\n\r\n", boundary, what);
        m += in.original;
        if (!in.original.empty() && !in.original.ends_with("\r\n")) m += "\r\n";
    } else {
        m += fmt::format("\r\n--{}\r\nContent-Description: {} Headers\r\n"
                         "Content-Type: text/rfc822-headers\r\n\r\n", boundary, what);
        m += header_section(in.original);
    }
    m += fmt::format("\r\n--{}--\r\n", boundary);
    return m;
}

}  // namespace postrider::queue
