// smtp/address.cpp: envelope address and HELO name parsing (see address.hpp).
#include "smtp/address.hpp"

#include <cstdint>

#include "core/limits.hpp"
#include "smtp/command.hpp"

namespace postrider::smtp {

namespace {

constexpr std::size_t label_octets = 63;  // RFC 1035 2.3.4

bool is_alpha(unsigned char c) noexcept { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) noexcept { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
bool is_8bit(unsigned char c) noexcept { return c >= 0x80; }

// is_atext - RFC 5322 3.2.3 atext, which RFC 5321 4.1.2 Atom uses.
bool is_atext(unsigned char c) noexcept
{
    static constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~";
    return is_alpha(c) || is_digit(c) || specials.find(static_cast<char>(c)) != std::string_view::npos;
}

// has_8bit - any octet >= 0x80 (needs SMTPUTF8, RFC 6531 3.3).
bool has_8bit(std::string_view s) noexcept
{
    for (unsigned char c : s)
        if (is_8bit(c))
            return true;
    return false;
}

// lower_ascii - lower-case ASCII letters only; UTF-8 octets untouched.
std::string lower_ascii(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c + 32);
    return out;
}

// is_dot_string - RFC 5321 4.1.2 Dot-string (UTF-8 atoms allowed; checked by the caller).
bool is_dot_string(std::string_view s) noexcept
{
    if (s.empty() || s.front() == '.' || s.back() == '.')
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '.' ? s[i - 1] == '.' : !(is_atext(c) || is_8bit(c)))
            return false;
    }
    return true;
}

// quoted_end - index of the closing DQUOTE of the quoted string at s[0], npos if none.
std::size_t quoted_end(std::string_view s) noexcept
{
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] == '\\')
            ++i;
        else if (s[i] == '"')
            return i;
    }
    return std::string_view::npos;
}

// decode_quoted - RFC 5321 4.1.2 Quoted-string (qtextSMTP / quoted-pairSMTP) -> content.
std::optional<std::string> decode_quoted(std::string_view q)
{
    std::string out;
    for (std::size_t i = 1; i + 1 < q.size(); ++i) {
        auto c = static_cast<unsigned char>(q[i]);
        if (c == '\\')
            c = static_cast<unsigned char>(q[++i]);  // quoted_end() guarantees i < size - 1
        else if (c == '"')
            return std::nullopt;
        // qtextSMTP is %d32-33 / %d35-91 / %d93-126; quoted-pair adds '"' and '\'.
        if (!((c >= 32 && c <= 126) || is_8bit(c)))
            return std::nullopt;
        out += static_cast<char>(c);
    }
    return out;
}

// canonical_local - the local part in its canonical form (unquoted when that is a dot-string).
std::optional<std::string> canonical_local(std::string_view raw)
{
    if (raw.empty() || raw.front() != '"')
        return is_dot_string(raw) ? std::optional<std::string>(raw) : std::nullopt;
    auto content = decode_quoted(raw);
    // XXX: RFC 5321 allows "" as a local part; we refuse it (no mailbox can have it).
    if (!content || content->empty())
        return std::nullopt;
    if (is_dot_string(*content))
        return content;
    std::string out = "\"";
    for (char c : *content) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + '"';
}

// valid_ipv4 - dotted quad, each 0..255, no leading zeros (no octal ambiguity).
bool valid_ipv4(std::string_view s) noexcept
{
    int parts = 0;
    while (true) {
        const auto dot = s.find('.');
        const auto part = s.substr(0, dot);
        if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0'))
            return false;
        int v = 0;
        for (unsigned char c : part) {
            if (!is_digit(c))
                return false;
            v = v * 10 + (c - '0');
        }
        if (v > 255 || ++parts > 4)
            return false;
        if (dot == std::string_view::npos)
            return parts == 4;
        s.remove_prefix(dot + 1);
    }
}

// count_hex_groups - groups in a ':'-separated run; -1 if malformed. The last
//                    group may be an IPv4 address when v4_ok (counts as two).
int count_hex_groups(std::string_view s, bool v4_ok) noexcept
{
    if (s.empty())
        return 0;
    int n = 0;
    while (true) {
        const auto colon = s.find(':');
        const auto g = s.substr(0, colon);
        if (colon == std::string_view::npos && v4_ok && g.find('.') != std::string_view::npos)
            return valid_ipv4(g) ? n + 2 : -1;
        if (g.empty() || g.size() > 4)
            return -1;
        for (unsigned char c : g)
            if (!is_hex(c))
                return -1;
        ++n;
        if (colon == std::string_view::npos)
            return n;
        s.remove_prefix(colon + 1);
    }
}

// valid_ipv6 - RFC 4291 2.2 text forms (full, "::"-compressed, IPv4 tail).
bool valid_ipv6(std::string_view s) noexcept
{
    const auto dc = s.find("::");
    if (dc == std::string_view::npos)
        return count_hex_groups(s, true) == 8;
    const auto head = s.substr(0, dc);
    const auto tail = s.substr(dc + 2);
    if (tail.find("::") != std::string_view::npos)
        return false;
    const int h = count_hex_groups(head, false);
    const int t = count_hex_groups(tail, true);
    return h >= 0 && t >= 0 && h + t <= 7;
}

// valid_label - one LDH label (plus UTF-8 / underscore when allowed), RFC 1035 2.3.1.
bool valid_label(std::string_view l, bool utf8, bool underscore) noexcept
{
    if (l.empty() || l.size() > label_octets || l.front() == '-' || l.back() == '-')
        return false;
    for (unsigned char c : l)
        if (!(is_alpha(c) || is_digit(c) || c == '-' || (underscore && c == '_') || (utf8 && is_8bit(c))))
            return false;
    return true;
}

// all_digits - a label made only of digits (a TLD never is: catches bare IPs).
bool all_digits(std::string_view s) noexcept
{
    for (unsigned char c : s)
        if (!is_digit(c))
            return false;
    return true;
}

// domain_or_literal - a mailbox or route domain: "[...]" literal or a domain name.
std::optional<std::string> domain_or_literal(std::string_view s, bool utf8)
{
    if (!s.empty() && s.front() == '[')
        return parse_address_literal(s);
    return parse_domain(s, utf8);
}

// skip_source_route - RFC 5321 4.1.1.3 / appendix C: "@a,@b:" is accepted and
//                     ignored; returns what follows the ':' or nullopt if malformed.
std::optional<std::string_view> skip_source_route(std::string_view s)
{
    while (!s.empty() && s.front() == '@') {
        s.remove_prefix(1);
        std::size_t end = s.find_first_of(",:");
        if (!s.empty() && s.front() == '[') {
            const auto close = s.find(']');
            end = close == std::string_view::npos ? close : close + 1;
        }
        if (end == std::string_view::npos || end >= s.size() || !domain_or_literal(s.substr(0, end), true))
            return std::nullopt;
        const char sep = s[end];
        s.remove_prefix(end + 1);
        if (sep == ':')
            return s;
        if (sep != ',')
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

// Builds mailbox values; the only code allowed to call mailbox's constructor.
class path_parser {
public:
    // parse_mailbox - RFC 5321 4.1.2 Mailbox = Local-part "@" ( Domain / address-literal ).
    static parsed_path parse_mailbox(std::string_view s, bool smtputf8)
    {
        std::size_t at = s.find('@');
        if (!s.empty() && s.front() == '"') {
            const auto q = quoted_end(s);
            at = q == std::string_view::npos ? q : q + 1;
        }
        if (at == std::string_view::npos || at >= s.size() || s[at] != '@')
            return {address_error::syntax, {}};
        auto local = canonical_local(s.substr(0, at));
        auto domain = domain_or_literal(s.substr(at + 1), true);
        if (!local || !domain || !is_valid_utf8(s))
            return {address_error::syntax, {}};
        if (local->size() > limits::local_part_octets || domain->size() > limits::domain_octets)
            return {address_error::too_long, {}};
        if (!smtputf8 && has_8bit(s))
            return {address_error::needs_smtputf8, {}};
        return {address_error::none, mailbox(std::move(*local), std::move(*domain))};
    }

    // postmaster - RFC 5321 4.5.1: "<postmaster>" without a domain.
    static parsed_path postmaster(std::string_view our_domain)
    {
        return {address_error::none, mailbox("postmaster", lower_ascii(our_domain))};
    }
};

std::size_t path_extent(std::string_view s) noexcept
{
    if (s.empty() || s.front() != '<')
        return 0;
    bool quoted = false;
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (quoted && s[i] == '\\')
            ++i;
        else if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && s[i] == '>')
            return i + 1;
    }
    return 0;
}

namespace {

// path_inner - strip "<" ">" and the source route; nullopt on bad syntax.
std::optional<std::string_view> path_inner(std::string_view path)
{
    if (path.size() < 2 || path.front() != '<' || path.back() != '>')
        return std::nullopt;
    auto inner = path.substr(1, path.size() - 2);
    if (!inner.empty() && inner.front() == '@')
        return skip_source_route(inner);
    return inner;
}

}  // namespace

parsed_path parse_reverse_path(std::string_view path, bool smtputf8)
{
    if (path.size() > limits::path_octets)
        return {address_error::too_long, {}};
    const auto inner = path_inner(path);
    if (!inner)
        return {address_error::syntax, {}};
    if (inner->empty())
        return {address_error::none, {}};  // RFC 5321 4.5.5: <> null reverse-path
    return path_parser::parse_mailbox(*inner, smtputf8);
}

parsed_path parse_forward_path(std::string_view path, bool smtputf8, std::string_view our_domain)
{
    if (path.size() > limits::path_octets)
        return {address_error::too_long, {}};
    if (iequals(path, "<postmaster>"))
        return path_parser::postmaster(our_domain);
    const auto inner = path_inner(path);
    if (!inner || inner->empty())
        return {address_error::syntax, {}};
    return path_parser::parse_mailbox(*inner, smtputf8);
}

std::optional<std::string> parse_domain(std::string_view s, bool utf8, bool allow_underscore)
{
    if (s.empty() || s.size() > limits::domain_octets || (utf8 && !is_valid_utf8(s)))
        return std::nullopt;
    std::string_view rest = s;
    std::string_view label;
    while (true) {
        const auto dot = rest.find('.');
        label = rest.substr(0, dot);
        if (!valid_label(label, utf8, allow_underscore))
            return std::nullopt;  // also catches empty labels and a trailing dot
        if (dot == std::string_view::npos)
            break;
        rest.remove_prefix(dot + 1);
    }
    if (all_digits(label))
        return std::nullopt;
    return lower_ascii(s);
}

std::optional<std::string> parse_address_literal(std::string_view s)
{
    if (s.size() < 3 || s.front() != '[' || s.back() != ']')
        return std::nullopt;
    const auto body = s.substr(1, s.size() - 2);
    // RFC 5321 4.1.3: IPv4-address-literal, or "IPv6:" IPv6-addr (tag case-insensitive).
    if (valid_ipv4(body))
        return std::string(s);
    if (body.size() > 5 && iequals(body.substr(0, 5), "IPv6:") && valid_ipv6(body.substr(5)))
        return "[IPv6:" + lower_ascii(body.substr(5)) + "]";
    return std::nullopt;  // General-address-literal: no standardised tags we accept
}

std::optional<std::string> parse_helo_name(std::string_view s)
{
    if (!s.empty() && s.front() == '[')
        return parse_address_literal(s);
    // XXX: underscores are not LDH, but many desktop clients send them in EHLO;
    // refusing them would refuse mail for no security gain.
    return parse_domain(s, false, true);
}

bool is_valid_utf8(std::string_view s) noexcept
{
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (len == 0 || i + len > s.size())
            return false;
        std::uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        // RFC 3629 3: reject overlong forms, UTF-16 surrogates and > U+10FFFF.
        static constexpr std::uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

}  // namespace postrider::smtp
