// smtp/command.cpp: command line classification (see command.hpp).
#include "smtp/command.hpp"

#include <array>
#include <utility>

#include "smtp/address.hpp"

namespace postrider::smtp {

namespace {

constexpr std::array<std::pair<std::string_view, verb>, 24> verb_table{{
    {"HELO", verb::helo}, {"EHLO", verb::ehlo}, {"MAIL", verb::mail},
    {"RCPT", verb::rcpt}, {"DATA", verb::data}, {"BDAT", verb::bdat},
    {"RSET", verb::rset}, {"NOOP", verb::noop}, {"QUIT", verb::quit},
    {"VRFY", verb::vrfy}, {"EXPN", verb::expn}, {"HELP", verb::help},
    {"STARTTLS", verb::starttls}, {"AUTH", verb::auth},
    // RFC 821/5321 and common extensions that we recognise but do not offer.
    {"TURN", verb::not_implemented}, {"ETRN", verb::not_implemented},
    {"ATRN", verb::not_implemented}, {"SEND", verb::not_implemented},
    {"SOML", verb::not_implemented}, {"SAML", verb::not_implemented},
    {"XCLIENT", verb::not_implemented}, {"XFORWARD", verb::not_implemented},
    {"BURL", verb::not_implemented}, {"VERB", verb::not_implemented},
}};

// to_upper - ASCII only; locale-independent on purpose.
constexpr char to_upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// trim_right_blanks - drop trailing SP/HTAB (sent by some clients, harmless).
std::string_view trim_right_blanks(std::string_view s) noexcept
{
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// trim_left_blanks - drop leading SP/HTAB.
std::string_view trim_left_blanks(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    return s;
}

// classify - look the verb up in the table.
verb classify(std::string_view name) noexcept
{
    for (const auto& [text, kind] : verb_table)
        if (iequals(text, name))
            return kind;
    return verb::unknown;
}

// parse_digits - 1..20 decimal digits into a uint64 with overflow check (qmail CVE-2005-1513 lesson).
bool parse_digits(std::string_view s, std::uint64_t& out) noexcept
{
    if (s.empty() || s.size() > 20)
        return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_upper(a[i]) != to_upper(b[i]))
            return false;
    return true;
}

command parse_command(std::string_view line)
{
    line = trim_right_blanks(line);
    if (line.empty())
        return command{verb::empty, {}, {}};
    const auto sp = line.find(' ');
    const auto name = line.substr(0, sp);
    // RFC 5321 4.1.1: the verb is followed by exactly one SP; we tolerate more.
    const auto arg = sp == std::string_view::npos ? std::string_view{} : trim_left_blanks(line.substr(sp + 1));
    return command{classify(name), name, arg};
}

std::string_view verb_name(verb v) noexcept
{
    for (const auto& [text, kind] : verb_table)
        if (kind == v && kind != verb::not_implemented)
            return text;
    return v == verb::not_implemented ? "UNIMPLEMENTED" : v == verb::empty ? "EMPTY" : "UNKNOWN";
}

path_argument split_path_argument(std::string_view arg, std::string_view prefix)
{
    if (arg.size() < prefix.size() || !iequals(arg.substr(0, prefix.size()), prefix))
        return {};
    // Not RFC-strict: "MAIL FROM: <a@b>" is common in the wild (Postfix accepts it too).
    const auto rest = trim_left_blanks(arg.substr(prefix.size()));
    const auto n = path_extent(rest);
    if (n == 0)
        return {};
    const auto after = rest.substr(n);
    if (!after.empty() && after.front() != ' ')
        return {};
    return path_argument{true, rest.substr(0, n), trim_left_blanks(after)};
}

bdat_argument parse_bdat(std::string_view arg)
{
    bdat_argument out;
    const auto sp = arg.find(' ');
    if (!parse_digits(arg.substr(0, sp), out.count))
        return out;
    out.count_ok = true;
    if (sp == std::string_view::npos) {
        out.syntax_ok = true;
        return out;
    }
    out.last = iequals(trim_left_blanks(arg.substr(sp + 1)), "LAST");
    out.syntax_ok = out.last;
    return out;
}

}  // namespace postrider::smtp
