#include "inbound/trace_header.hpp"

#include <fmt/format.h>

#include "core/escape.hpp"

namespace postrider::inbound {

std::string rfc5322_date(std::time_t when)
{
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    gmtime_r(&when, &tm);
    // Written by hand rather than with strftime so the locale cannot change it.
    return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", days[tm.tm_wday], tm.tm_mday,
                       months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string received_header(const trace_info& t, std::time_t when)
{
    // Postfix's layout: only a single recipient is named, so a Bcc list is not disclosed.
    std::string header;
    if (t.hide_client) {
        // Host hiding: the client's name and address stay in our log (client=, session=), not in
        // the mail; the protocol (ESMTPSA) still tells that TLS was used.
        header = fmt::format("Received: by {} (postrider) with {} id {}", t.our_host, t.protocol, t.queue_id);
    } else {
        header = fmt::format("Received: from {} ([{}])\r\n", core::escape(t.helo), t.client_ip);
        // Postfix's TLS line, so tools that parse Received headers for TLS find it.
        if (!t.tls.empty()) header += fmt::format("\t(using {})\r\n", core::escape(t.tls));
        header += fmt::format("\tby {} (postrider) with {} id {}", t.our_host, t.protocol, t.queue_id);
    }
    if (!t.single_rcpt.empty()) header += fmt::format("\r\n\tfor <{}>", core::escape(t.single_rcpt));
    header += fmt::format("; {}\r\n", rfc5322_date(when));
    return header;
}

}  // namespace postrider::inbound
