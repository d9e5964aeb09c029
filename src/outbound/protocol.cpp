// outbound/protocol.cpp: PURE client protocol pieces (see protocol.hpp).
#include "outbound/protocol.hpp"

#include <algorithm>

namespace postrider::outbound {
namespace {

// upper - ASCII upper case.
std::string upper(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

// parse_u64 - decimal with overflow check (ignored when malformed).
bool parse_u64(std::string_view s, std::uint64_t& out)
{
    if (s.empty() || s.size() > 19) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = v;
    return true;
}

// Matches queue::notify_flags (kept apart so this pure file does not include the queue).
constexpr std::uint8_t notify_never = 1, notify_success = 2, notify_failure = 4, notify_delay = 8;

// notify_param - " NOTIFY=SUCCESS,FAILURE" or empty when not given.
std::string notify_param(std::uint8_t n)
{
    if (n == 0) return {};
    if (n & notify_never) return " NOTIFY=NEVER";
    std::string v;
    if (n & notify_success) v += ",SUCCESS";
    if (n & notify_failure) v += ",FAILURE";
    if (n & notify_delay) v += ",DELAY";
    return v.empty() ? std::string{} : " NOTIFY=" + v.substr(1);
}

}  // namespace

extensions parse_ehlo(const remote_reply& r)
{
    extensions e;
    for (std::size_t i = 1; i < r.lines.size(); ++i) {
        std::string_view line = r.lines[i];
        auto sp = line.find(' ');
        std::string key = upper(line.substr(0, sp));
        std::string_view arg = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
        if (key == "PIPELINING") e.pipelining = true;
        else if (key == "STARTTLS") e.starttls = true;
        else if (key == "8BITMIME") e.eightbitmime = true;
        else if (key == "DSN") e.dsn = true;
        else if (key == "SMTPUTF8") e.smtputf8 = true;
        else if (key == "AUTH" || key.starts_with("AUTH=")) {
            // RFC 4954 3: "AUTH mech mech"; "AUTH=mech" is the pre-standard form some servers still send.
            std::string mechs = " " + upper(key == "AUTH" ? arg : line.substr(5)) + " ";
            if (mechs.find(" PLAIN ") != std::string::npos) e.auth_plain = true;
            if (mechs.find(" LOGIN ") != std::string::npos) e.auth_login = true;
        } else if (key == "SIZE") {
            e.size = true;
            std::uint64_t v = 0;
            e.max_size = parse_u64(arg, v) ? v : 0;
        }
    }
    return e;
}

std::string xtext(std::string_view raw)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : raw) {
        if (c >= 33 && c <= 126 && c != '+' && c != '=') {
            out += static_cast<char>(c);
        } else {
            out += '+';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string mail_line(std::string_view sender, const mail_options& o, const extensions& ext)
{
    std::string line = "MAIL FROM:<" + std::string(sender) + ">";
    if (ext.size) line += " SIZE=" + std::to_string(o.size);
    // 8-bit body to a server without 8BITMIME: sent as is, without BODY= (as qmail does;
    // Postfix would convert MIME parts to quoted-printable). See docs/remote-delivery.md.
    if (o.body_8bit && ext.eightbitmime) line += " BODY=8BITMIME";
    if (o.smtputf8 && ext.smtputf8) line += " SMTPUTF8";
    if (ext.dsn) {  // RET is passed on only when the sender gave RET=FULL (HDRS is not stored apart from "absent")
        if (o.ret_full) line += " RET=FULL";
        if (!o.envid.empty()) line += " ENVID=" + xtext(o.envid);
    }
    return line + "\r\n";
}

namespace {

// orcpt_param - "type;xtext" from the queue's "type;decoded" (smtp/esmtp_params.cpp keeps the
//               addr-type); a value without a usable type is sent as rfc822. Only the address
//               part is xtext-encoded: encoding the ';' would make it one opaque address.
std::string orcpt_param(std::string_view orcpt)
{
    const auto semi = orcpt.find(';');
    std::string_view type = semi == std::string_view::npos ? std::string_view{} : orcpt.substr(0, semi);
    const bool type_ok = !type.empty() && type.size() <= 32 && std::all_of(type.begin(), type.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!type_ok) return "rfc822;" + xtext(orcpt);
    return std::string(type) + ";" + xtext(orcpt.substr(semi + 1));
}

}  // namespace

std::string rcpt_line(std::string_view address, std::string_view orcpt, std::uint8_t notify, const extensions& ext)
{
    std::string line = "RCPT TO:<" + std::string(address) + ">";
    if (ext.dsn) {
        line += notify_param(notify);
        if (!orcpt.empty()) line += " ORCPT=" + orcpt_param(orcpt);
    }
    return line + "\r\n";
}

std::string dot_stuff(std::string_view message)
{
    std::string out;
    out.reserve(message.size() + message.size() / 64 + 8);
    bool line_start = true;
    for (char c : message) {
        if (line_start && c == '.') out += '.';
        out += c;
        line_start = c == '\n';
    }
    if (!out.empty() && !(out.size() >= 2 && out.ends_with("\r\n"))) out += "\r\n";
    out += ".\r\n";
    return out;
}

}  // namespace postrider::outbound
