// sendmail/args.cpp: PURE sendmail(1) argument parsing (see args.hpp).
#include "sendmail/args.hpp"

#include <cctype>

#include "core/escape.hpp"
#include "core/verp.hpp"

namespace postrider::sendmail {
namespace {

// Flags that take an argument (attached "-fuser" or the next word), as in
// Postfix's getopt string "B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx";
// V and q take only an attached argument (it is optional for them).
constexpr std::string_view with_argument = "BCFLNORXbefhopr";
constexpr std::string_view without_argument = "GIUcimntvx";

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// strip_brackets - "<a@b>" -> "a@b", so -f '<>' means the null sender as in Postfix.
std::string strip_brackets(std::string_view s)
{
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    return std::string(s);
}

// apply_b - the -b mode letters we implement; the rest are a usage error, not a surprise.
std::string apply_b(options& o, std::string_view arg)
{
    if (arg == "m") o.run = mode::deliver;
    else if (arg == "s") o.run = mode::smtp_stdio;
    else if (arg == "p") o.run = mode::print_queue;
    else if (arg == "i") o.run = mode::rebuild_aliases;
    else if (arg == "d" || arg == "D") return "-bd is not supported: run 'postrider serve'";
    else return "-b" + core::escape(arg, 32) + " is not supported (use -bm, -bs, -bp or -bi)";
    return {};
}

// apply_verp - -V / -XV with optional delimiters (Postfix 2.2's -Vxy, today's -XVxy).
std::string apply_verp(options& o, std::string_view delimiters)
{
    if (!delimiters.empty() && !core::valid_verp_delimiters(delimiters))
        return "VERP delimiters must be two characters from \"-=+\", not '" + core::escape(delimiters, 32) + "'";
    o.verp = true;
    o.verp_delimiters = std::string(delimiters);
    return {};
}

// apply_with_argument - one flag that took an argument; an error sentence or empty.
std::string apply_with_argument(options& o, char flag, const std::string& arg)
{
    switch (flag) {
    case 'B': {
        auto v = lower(arg);
        if (v == "8bitmime") o.body_8bit = true;
        else if (v == "7bit") o.body_8bit = false;
        else return "-B takes 7BIT or 8BITMIME, not '" + core::escape(arg, 32) + "'";
        return {};
    }
    case 'C': o.config_file = arg; return {};
    case 'F': o.full_name = arg; return {};
    case 'N': {
        auto n = parse_notify(arg);
        if (!n) return "-N takes 'never' or a list of success,failure,delay, not '" + core::escape(arg, 32) + "'";
        o.notify = *n;
        return {};
    }
    case 'R': {
        auto v = lower(arg);
        if (v == "full") o.ret_full = true;
        else if (v == "hdrs") o.ret_full = false;
        else return "-R takes full or hdrs, not '" + core::escape(arg, 32) + "'";
        return {};
    }
    case 'X':
        if (!arg.empty() && arg.front() == 'V') return apply_verp(o, std::string_view(arg).substr(1));
        o.ignored.push_back("-X" + arg);
        return {};
    case 'b': return apply_b(o, arg);
    case 'f':
    case 'r': o.sender = strip_brackets(arg); return {};
    case 'o':
        if (arg == "i") o.dot_ends_input = false;
        else o.ignored.push_back("-o" + arg);
        return {};
    default: o.ignored.push_back(std::string("-") + flag + arg); return {};  // L O e h p
    }
}

// apply_flag - one flag without an argument.
void apply_flag(options& o, char flag)
{
    switch (flag) {
    case 't': o.recipients_from_headers = true; break;
    case 'i': o.dot_ends_input = false; break;
    case 'I': o.run = mode::rebuild_aliases; break;
    default: o.ignored.push_back(std::string("-") + flag); break;  // G U c m n v x
    }
}

// parse_cluster - one "-abc" word; may consume the next word as an argument.
std::string parse_cluster(options& o, const std::vector<std::string>& args, std::size_t& i)
{
    const std::string& word = args[i];
    for (std::size_t k = 1; k < word.size(); ++k) {
        const char f = word[k];
        if (f == 'V') return apply_verp(o, std::string_view(word).substr(k + 1));  // optional attached argument only
        if (f == 'q') {  // optional attached argument only (an interval: ignored)
            o.run = mode::flush_queue;
            return {};
        }
        if (with_argument.find(f) != std::string_view::npos) {
            std::string arg;
            if (k + 1 < word.size()) arg = word.substr(k + 1);
            else if (i + 1 < args.size()) arg = args[++i];
            else return std::string("option -") + f + " needs an argument";
            return apply_with_argument(o, f, arg);
        }
        if (without_argument.find(f) == std::string_view::npos)
            return "unknown option -" + core::escape(std::string_view(&f, 1));
        apply_flag(o, f);
    }
    return {};
}

}  // namespace

std::optional<std::uint8_t> parse_notify(std::string_view s)
{
    if (lower(s) == "never") return notify_never;
    std::uint8_t bits = 0;
    std::string item;
    const std::string all = lower(s) + ",";
    for (char c : all) {
        if (c != ',') {
            item += c;
            continue;
        }
        if (item == "success") bits |= notify_success;
        else if (item == "failure") bits |= notify_failure;
        else if (item == "delay") bits |= notify_delay;
        else return std::nullopt;
        item.clear();
    }
    return bits;
}

parse_result parse_args(const std::vector<std::string>& args, std::string_view invoked_as)
{
    options o;
    if (invoked_as == "mailq") o.run = mode::print_queue;
    if (invoked_as == "newaliases") o.run = mode::rebuild_aliases;
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& w = args[i];
        if (w == "--") {
            ++i;
            break;
        }
        if (w.size() < 2 || w[0] != '-') break;  // first operand: the rest are recipients
        if (auto error = parse_cluster(o, args, i); !error.empty()) return {std::nullopt, error};
    }
    for (; i < args.size(); ++i) o.recipients.push_back(args[i]);
    return {std::move(o), {}};
}

std::string_view usage_text()
{
    return "usage: sendmail [-t] [-i] [-f sender] [-F name] [-N dsn] [-B 8BITMIME] [recipient ...]\n"
           "       sendmail -bs | -bp | -bi | -q\n"
           "see docs/sendmail.md for every flag\n";
}

}  // namespace postrider::sendmail
