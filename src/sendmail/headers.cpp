// sendmail/headers.cpp: PURE header scanning and completion (see headers.hpp).
#include "sendmail/headers.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace postrider::sendmail {
namespace {

// field_name_length - octets of "name" if line starts "name:" (RFC 5322 2.2: printable, no colon), else 0.
std::size_t field_name_length(std::string_view line) noexcept
{
    std::size_t i = 0;
    while (i < line.size() && line[i] != ':') {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c < 33 || c > 126) return 0;
        ++i;
    }
    return i < line.size() ? i : 0;
}

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

std::string trim(std::string_view s)
{
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return std::string(s);
}

// without_space - drop folding white space outside quoted strings ("a @ b" is a@b).
std::string without_space(std::string_view s)
{
    std::string out;
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\\' && quoted && i + 1 < s.size()) {
            out += c;
            out += s[++i];
            continue;
        }
        if (c == '"') quoted = !quoted;
        if (!quoted && is_wsp(c)) continue;
        out += c;
    }
    return out;
}

// skip_comment - i at '(' : index after the matching ')', nesting and \-escapes honoured.
std::size_t skip_comment(std::string_view s, std::size_t i)
{
    int depth = 0;
    for (; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '(') ++depth;
        else if (s[i] == ')' && --depth == 0) return i + 1;
    }
    return s.size();
}

// quoted_extent - i at '"' : index after the closing quote.
std::size_t quoted_extent(std::string_view s, std::size_t i)
{
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '"') return i + 1;
    }
    return s.size();
}

// strip_route - RFC 5322 4.4 obsolete source route "@a,@b:user@c" -> "user@c".
std::string strip_route(std::string addr)
{
    if (!addr.empty() && addr.front() == '@') {
        auto colon = addr.find(':');
        if (colon != std::string::npos) addr.erase(0, colon + 1);
    }
    return addr;
}

struct list_state {
    std::vector<std::string> out;
    std::string plain;  // text outside <> (an addr-spec, or a display name)
    std::string angle;  // text inside <>
    bool has_angle = false;
    // flush - end of one mailbox: keep its address if it has one.
    void flush()
    {
        std::string addr = has_angle ? strip_route(without_space(angle)) : without_space(plain);
        if (!addr.empty()) out.push_back(std::move(addr));
        plain.clear();
        angle.clear();
        has_angle = false;
    }
};

constexpr std::array<const char*, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<const char*, 7> day_names = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

bool has_field(const split_message& m, std::string_view name)
{
    for (const auto& f : m.fields)
        if (iequals(f.name, name)) return true;
    return false;
}

// is_atext_phrase - every octet is atext or a space: the name needs no quoting (RFC 5322 3.2.3).
bool is_atext_phrase(std::string_view s) noexcept
{
    constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~ ";
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && specials.find(c) == std::string_view::npos) return false;
    return !s.empty();
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string header_field::value() const
{
    std::string v = text.substr(name.size() + 1);
    std::string out;
    for (char c : v)
        if (c != '\r' && c != '\n') out += c;
    return trim(out);
}

split_message split_headers(std::string_view data)
{
    split_message m;
    std::size_t pos = 0;
    bool first = true;
    while (pos < data.size()) {
        auto end = data.find("\r\n", pos);
        if (end == std::string_view::npos) end = data.size();  // callers pass CRLF lines; be safe anyway
        const auto line = data.substr(pos, end - pos);
        const auto next = std::min(data.size(), end + 2);
        // An mbox "From " envelope line is not a header field (Postfix drops it too).
        if (first && line.rfind("From ", 0) == 0) {
            m.from_line_dropped = true;
            pos = next;
            first = false;
            continue;
        }
        first = false;
        if (line.empty()) {
            m.body = std::string(data.substr(next));
            return m;
        }
        if (is_wsp(line.front()) && !m.fields.empty()) {
            m.fields.back().text += data.substr(pos, next - pos);
        } else if (auto n = field_name_length(line); n > 0) {
            m.fields.push_back({std::string(line.substr(0, n)), std::string(data.substr(pos, next - pos))});
        } else {
            m.separator_added = true;  // fix-up: the body starts here
            m.body = std::string(data.substr(pos));
            return m;
        }
        pos = next;
    }
    return m;  // header section only, no body
}

std::vector<std::string> parse_address_list(std::string_view v)
{
    list_state st;
    for (std::size_t i = 0; i < v.size();) {
        const char c = v[i];
        if (c == '(') {
            i = skip_comment(v, i);
        } else if (c == '"') {
            auto e = quoted_extent(v, i);
            st.plain += v.substr(i, e - i);
            i = e;
        } else if (c == '<') {
            auto e = v.find('>', i);
            if (e == std::string_view::npos) e = v.size();
            st.angle = std::string(v.substr(i + 1, e - i - 1));
            st.has_angle = true;
            i = e + 1;
        } else if (c == ':') {  // group display name: discard it
            st.plain.clear();
            ++i;
        } else if (c == ',' || c == ';') {
            st.flush();
            ++i;
        } else {
            st.plain += c;
            ++i;
        }
    }
    st.flush();
    return st.out;
}

std::vector<std::string> header_recipients(const split_message& m)
{
    bool resent = false;
    for (const auto& f : m.fields)
        if (iequals(f.name, "Resent-To") || iequals(f.name, "Resent-Cc") || iequals(f.name, "Resent-Bcc"))
            resent = true;
    std::vector<std::string> out;
    for (const auto& f : m.fields) {
        const std::string_view n = f.name;
        const bool wanted = resent ? (iequals(n, "Resent-To") || iequals(n, "Resent-Cc") || iequals(n, "Resent-Bcc"))
                                   : (iequals(n, "To") || iequals(n, "Cc") || iequals(n, "Bcc"));
        if (!wanted) continue;
        for (auto& a : parse_address_list(f.value())) out.push_back(std::move(a));
    }
    return out;
}

std::string rfc5322_date(std::time_t when)
{
    std::tm tm{};
    ::gmtime_r(&when, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", day_names[static_cast<std::size_t>(tm.tm_wday)],
                  tm.tm_mday, month_names[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    return buf;
}

std::string quote_display_name(std::string_view name)
{
    std::string clean;
    for (char c : name)
        if (c != '\r' && c != '\n' && c != '\0') clean += c;
    clean = trim(clean);
    if (is_atext_phrase(clean)) return clean;
    std::string out = "\"";
    for (char c : clean) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string complete(const split_message& m, const completion& c)
{
    std::string out;
    if (!has_field(m, "Date")) out += "Date: " + rfc5322_date(c.now) + "\r\n";
    if (!has_field(m, "From")) {
        const std::string addr = c.login + "@" + c.domain;
        const std::string name = quote_display_name(c.full_name);
        out += name.empty() || name == "\"\"" ? "From: " + addr + "\r\n" : "From: " + name + " <" + addr + ">\r\n";
    }
    if (!has_field(m, "Message-ID")) out += "Message-ID: <" + c.unique + "@" + c.domain + ">\r\n";
    for (const auto& f : m.fields) {
        // RFC 5322 3.6.3: Bcc recipients must not be disclosed to the others.
        if (iequals(f.name, "Bcc") || iequals(f.name, "Resent-Bcc")) continue;
        out += f.text;
    }
    out += "\r\n";
    out += m.body;
    return out;
}

}  // namespace postrider::sendmail
