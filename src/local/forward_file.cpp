// local/forward_file.cpp: PURE parser for forward/list files (no I/O).
#include "local/forward_file.hpp"

#include "local/mailbox_table.hpp"

#include <utility>

namespace postrider::local {
namespace {

// trim_blanks - strip spaces, tabs and a CR.
std::string_view trim_blanks(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

bool plain_address(std::string_view a) noexcept
{
    if (a.size() < 3 || a.size() > 320) return false;
    const auto at = a.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == a.size()) return false;
    for (char c : a) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == ',' || c == ';') return false;
    }
    return true;
}

forward_parse_result parse_forward_file(std::string_view text, std::string_view domain, bool allow_program)
{
    forward_parse_result r;
    std::size_t lineno = 0;
    auto fail = [&](std::string why) {
        r.error_line = lineno;
        r.error = std::move(why);
        r.targets.clear();
        return r;
    };
    if (text.size() > max_forward_file_octets) return fail("file larger than 64 KiB");
    while (!text.empty()) {
        ++lineno;
        const auto nl = text.find('\n');
        std::string_view line = trim_blanks(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.empty() || line.front() == '#') continue;
        for (char c : line)
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return fail("control character");
        delivery_target t;
        if (line.front() == '|') {
            if (!allow_program) return fail("program line (|command) but allow_program_delivery is off");
            std::string_view cmd = trim_blanks(line.substr(1));
            if (cmd.empty()) return fail("empty program line");
            t.type = delivery_target::kind::program;
            t.value = std::string(cmd);
        } else if (line.front() == '.' || line.front() == '/') {
            if (line.front() == '/') return fail("absolute path (only ./dir/ under your directory)");
            if (line.back() != '/') return fail("mbox file delivery is not supported (a maildir line ends in '/')");
            if (line.size() < 3 || line[1] != '/') return fail("a maildir line starts with ./");
            std::string_view sub = line.substr(2);
            if (!safe_relative_path(sub)) return fail("bad maildir path (a-z A-Z 0-9 . _ + - /, no '..')");
            t.type = delivery_target::kind::maildir;
            t.value = std::string(sub.substr(0, sub.size() - 1));
        } else {
            std::string_view a = line.front() == '&' ? trim_blanks(line.substr(1)) : line;
            std::string addr(a);
            if (addr.find('@') == std::string::npos && !domain.empty()) addr += "@" + std::string(domain);
            if (!plain_address(addr)) return fail("bad forward address");
            t.type = delivery_target::kind::address;
            t.value = std::move(addr);
        }
        if (r.targets.size() >= max_forward_targets) return fail("more than 1000 targets");
        r.targets.push_back(std::move(t));
    }
    return r;  // no target (empty or comments only): the caller delivers as if there were no file (qmail)
}

std::vector<std::string> forward_file_names(std::string_view local_part, std::string_view delimiters)
{
    const std::string l = lower(local_part);
    const auto cands = extension_candidates(l, delimiters);
    const std::string& user = cands.back();
    std::vector<std::string> out;
    for (const auto& c : cands) {
        if (c.size() == user.size()) {  // the bare user (or an address without an extension)
            out.emplace_back(".qmail");
            continue;
        }
        std::string ext = c.substr(user.size() + 1);
        if (!safe_name(ext)) continue;  // never a path from address text
        out.push_back(".qmail-" + ext);
    }
    return out;
}

}  // namespace postrider::local
