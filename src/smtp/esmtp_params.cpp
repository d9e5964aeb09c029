// smtp/esmtp_params.cpp: ESMTP parameter parsing (see esmtp_params.hpp).
#include "smtp/esmtp_params.hpp"

#include "core/escape.hpp"
#include "core/verp.hpp"
#include "smtp/command.hpp"

namespace postrider::smtp {

namespace {

constexpr std::size_t envid_octets = 100;  // RFC 3461 4.4
constexpr std::size_t orcpt_octets = 500;  // RFC 3461 4.2

struct param {
    std::string_view key;
    std::optional<std::string_view> value;
};

// valid_keyword - RFC 5321 4.1.2 esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
bool valid_keyword(std::string_view k) noexcept
{
    if (k.empty() || k.front() == '-')
        return false;
    for (unsigned char c : k)
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') && c != '-')
            return false;
    return true;
}

// valid_value - RFC 5321 4.1.2 esmtp-value = 1*(%d33-60 / %d62-126).
bool valid_value(std::string_view v) noexcept
{
    if (v.empty())
        return false;
    for (unsigned char c : v)
        if (c < 33 || c > 126 || c == '=')
            return false;
    return true;
}

// next_param - take one "KEY[=VALUE]" off the front of rest; false + error text if malformed.
bool next_param(std::string_view& rest, param& p, std::string& error)
{
    while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
    const auto sp = rest.find(' ');
    const auto token = rest.substr(0, sp);
    rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp);
    const auto eq = token.find('=');
    p.key = token.substr(0, eq);
    p.value = eq == std::string_view::npos ? std::nullopt : std::optional(token.substr(eq + 1));
    // XVERP=+= is Postfix's syntax: '=' is not an esmtp-value octet, the delimiter check covers it.
    if (valid_keyword(p.key) && (!p.value || valid_value(*p.value) || iequals(p.key, "XVERP")))
        return true;
    error = "Bad parameter syntax: " + core::escape(token, 64);
    return false;
}

// parse_size - RFC 1870 size-value = 1*20DIGIT, overflow-checked.
std::optional<std::uint64_t> parse_size(std::string_view v) noexcept
{
    if (v.empty() || v.size() > 20)
        return std::nullopt;
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9')
            return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10)
            return std::nullopt;
        n = n * 10 + d;
    }
    return n;
}

// parse_notify - RFC 3461 4.1: "NEVER" alone, or a list of SUCCESS, FAILURE, DELAY.
std::uint8_t parse_notify(std::string_view v) noexcept
{
    if (iequals(v, "NEVER"))
        return notify_never;
    std::uint8_t bits = 0;
    while (true) {
        const auto comma = v.find(',');
        const auto item = v.substr(0, comma);
        const std::uint8_t bit = iequals(item, "SUCCESS") ? notify_success
                               : iequals(item, "FAILURE") ? notify_failure
                               : iequals(item, "DELAY")   ? notify_delay
                                                          : 0;
        if (bit == 0 || (bits & bit) != 0)
            return 0;
        bits = static_cast<std::uint8_t>(bits | bit);
        if (comma == std::string_view::npos)
            return bits;
        v.remove_prefix(comma + 1);
    }
}

// parse_orcpt - RFC 3461 4.2: addr-type ";" xtext; stored as "type;decoded".
std::optional<std::string> parse_orcpt(std::string_view v)
{
    const auto semi = v.find(';');
    if (semi == std::string_view::npos || v.size() > orcpt_octets || !valid_keyword(v.substr(0, semi)))
        return std::nullopt;
    auto addr = xtext_decode(v.substr(semi + 1));
    if (!addr || addr->empty())
        return std::nullopt;
    return std::string(v.substr(0, semi)) + ';' + *addr;
}

// key_index - position of key in keys (case-insensitive), -1 if absent.
template <std::size_t N>
int key_index(std::string_view key, const std::string_view (&keys)[N]) noexcept
{
    for (std::size_t i = 0; i < N; ++i)
        if (iequals(key, keys[i]))
            return static_cast<int>(i);
    return -1;
}

// check_key - known and not yet seen (RFC 5321 4.1.2 allows each keyword once); error text otherwise.
template <std::size_t N>
std::string check_key(const param& p, const std::string_view (&keys)[N], unsigned& seen, int& index)
{
    index = key_index(p.key, keys);
    if (index < 0)
        return "Unsupported option: " + core::escape(p.key, 32);
    const unsigned bit = 1u << index;
    if (seen & bit)
        return "Duplicate option: " + core::escape(p.key, 32);
    seen |= bit;
    return {};
}

// body_value - BODY= value; BINARYMIME is refused (RFC 3030 3: not advertised).
std::string body_value(const std::optional<std::string_view>& v, mail_params& out)
{
    if (v && iequals(*v, "BINARYMIME"))
        return "BODY=BINARYMIME is not supported";
    out.body = v && iequals(*v, "7BIT")       ? body_type::seven_bit
             : v && iequals(*v, "8BITMIME") ? body_type::eight_bit_mime
                                            : body_type::unspecified;
    return out.body != body_type::unspecified ? "" : "Bad BODY value";
}

// apply_mail_param - one MAIL parameter into out; error text if it is wrong.
std::string apply_mail_param(const param& p, mail_params& out, unsigned& seen)
{
    static const std::string_view keys[] = {"SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "XVERP"};
    int k = -1;
    if (auto e = check_key(p, keys, seen, k); !e.empty())
        return e;
    const auto& v = p.value;
    switch (k) {
    case 0:
        out.size = v ? parse_size(*v) : std::nullopt;
        return out.size ? "" : "Bad SIZE value";
    case 1:
        return body_value(v, out);
    case 2:
        out.smtputf8 = true;
        return v ? "SMTPUTF8 takes no value" : "";
    case 3:
        out.ret_full = v && iequals(*v, "FULL");
        return v && (out.ret_full || iequals(*v, "HDRS")) ? "" : "Bad RET value";
    case 5:
        if (v && !core::valid_verp_delimiters(*v))
            return "Bad XVERP delimiters: use two of " + std::string(core::verp_delimiter_chars);
        out.xverp = v ? std::string(*v) : std::string{};
        return {};
    default: {
        auto d = v && v->size() <= envid_octets ? xtext_decode(*v) : std::nullopt;
        out.envid = d ? *d : "";
        return d && !d->empty() ? "" : "Bad ENVID value";
    }
    }
}

// apply_rcpt_param - one RCPT parameter into out; error text if it is wrong.
std::string apply_rcpt_param(const param& p, rcpt_params& out, unsigned& seen)
{
    static const std::string_view keys[] = {"NOTIFY", "ORCPT"};
    int k = -1;
    if (auto e = check_key(p, keys, seen, k); !e.empty())
        return e;
    if (k == 0) {
        out.notify = p.value ? parse_notify(*p.value) : 0;
        return out.notify ? "" : "Bad NOTIFY value";
    }
    auto o = p.value ? parse_orcpt(*p.value) : std::nullopt;
    out.orcpt = o ? *o : "";
    return o ? "" : "Bad ORCPT value";
}

}  // namespace

mail_params_result parse_mail_params(std::string_view text)
{
    mail_params out;
    unsigned seen = 0;
    std::string error;
    while (!text.empty()) {
        param p;
        if (!next_param(text, p, error) || !(error = apply_mail_param(p, out, seen)).empty())
            return {std::nullopt, error};
    }
    return {out, {}};
}

rcpt_params_result parse_rcpt_params(std::string_view text)
{
    rcpt_params out;
    unsigned seen = 0;
    std::string error;
    while (!text.empty()) {
        param p;
        if (!next_param(text, p, error) || !(error = apply_rcpt_param(p, out, seen)).empty())
            return {std::nullopt, error};
    }
    return {out, {}};
}

std::optional<std::string> xtext_decode(std::string_view s)
{
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '+') {
            // RFC 3461 4: hexchar = "+" 2(%x30-39 / %x41-46): upper-case hex only.
            if (i + 2 >= s.size())
                return std::nullopt;
            const auto hi = hex.find(s[i + 1]);
            const auto lo = hex.find(s[i + 2]);
            if (hi == std::string_view::npos || lo == std::string_view::npos)
                return std::nullopt;
            c = static_cast<unsigned char>(hi * 16 + lo);
            i += 2;
        } else if (c == '=') {
            return std::nullopt;
        }
        if (c < 32 || c > 126)  // decoded value must stay printable ASCII: no controls reach the queue
            return std::nullopt;
        out += static_cast<char>(c);
    }
    return out;
}

}  // namespace postrider::smtp
