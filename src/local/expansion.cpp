// local/expansion.cpp: PURE expansion of a local recipient (no I/O; see expansion.hpp).
#include "local/expansion.hpp"

#include "local/alias_table.hpp"
#include "local/forward_file.hpp"

#include <set>
#include <utility>

namespace postrider::local {
namespace {

// same_address - case-insensitive equality of two addresses.
bool same_address(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

// user_dir_of - D for a mailbox path D/Maildir (or D/Maildir/), else "".
std::string user_dir_of(const std::string& path)
{
    std::string_view p = path;
    if (!p.empty() && p.back() == '/') p.remove_suffix(1);
    constexpr std::string_view tail = "/Maildir";
    if (p.size() <= tail.size() || !p.ends_with(tail)) return {};
    return std::string(p.substr(0, p.size() - tail.size()));
}

// owner_checks - how to tell whether owner-LIST / LIST-owner exist at domain.
std::vector<owner_check> owner_checks(const std::string& list, const std::string& domain, const mailbox_table& t)
{
    std::vector<owner_check> out;
    for (const std::string& local : {"owner-" + list, list + "-owner"}) {
        owner_check c;
        c.address = local + "@" + domain;
        if (t.aliases() && t.aliases()->has(local, domain)) {
            c.known = true;
        } else if (const auto cands = extension_candidates(local, t.recipient_delimiter()); cands.size() > 1) {
            // With an extension (joe+list-owner lives with joe): an exact table entry, else
            // the exact forward file in the directory it falls back to, as qmail asks.
            if (!t.default_mapping() && t.lookup_exact(local, domain)) {
                c.known = true;
            } else if (auto path = t.lookup(local, domain)) {
                const auto dir = user_dir_of(*path);
                const auto ext = local.substr(cands.back().size() + 1);
                if (!dir.empty() && safe_name(ext)) {
                    c.path_to_stat = dir + "/.qmail-" + ext;
                    c.expect_file = true;
                }
            }
        } else if (auto path = t.lookup_exact(local, domain)) {
            if (!t.default_mapping()) c.known = true;
            else c.path_to_stat = user_dir_of(*path);  // the default mapping answers for any safe name
        }
        if (c.known || !c.path_to_stat.empty()) out.push_back(std::move(c));
    }
    return out;
}

}  // namespace

expansion_plan plan_expansion(std::string_view local_part, std::string_view domain, const mailbox_table& t)
{
    expansion_plan p;
    const std::string d = lower(domain);
    p.address = std::string(local_part) + "@" + std::string(domain);
    p.own_maildir = t.lookup(local_part, domain);
    const std::string list = lower(local_part);
    if (t.aliases()) {
        if (auto members = t.aliases()->lookup(local_part, domain, t.recipient_delimiter())) {
            p.type = expansion_plan::kind::alias;
            p.alias_members = std::move(*members);
            p.owners = owner_checks(list, d, t);
            return p;
        }
    }
    if (!p.own_maildir) return p;  // unknown_user
    p.type = expansion_plan::kind::mailbox;
    p.user_dir = user_dir_of(*p.own_maildir);
    if (!p.user_dir.empty()) {
        p.forward_files = forward_file_names(local_part, t.recipient_delimiter());
        p.owners = owner_checks(list, d, t);
    }
    return p;
}

expansion finish_expansion(const expansion_plan& p, const expansion_facts& f, bool allow_program)
{
    expansion e;
    if (p.type == expansion_plan::kind::unknown_user) {
        e.type = expansion::kind::unknown_user;
        e.reason = "unknown user";
        return e;
    }
    std::vector<delivery_target> raw;
    const std::string domain = p.address.substr(p.address.rfind('@') + 1);
    if (p.type == expansion_plan::kind::alias) {
        e.source = "alias";
        for (const auto& m : p.alias_members) raw.push_back({delivery_target::kind::address, m});
    } else if (!f.io_error.empty()) {
        e.type = expansion::kind::defer;
        e.reason = f.io_error;
        return e;
    } else if (!f.file_name.empty()) {
        auto parsed = parse_forward_file(f.file_text, domain, allow_program);
        if (!parsed.error.empty()) {
            e.type = expansion::kind::defer;
            e.reason = "forward file " + f.file_name + " line " + std::to_string(parsed.error_line) + ": " + parsed.error;
            return e;
        }
        e.source = f.file_name;
        e.user_dir = p.user_dir;
        for (auto& t : parsed.targets) {
            if (t.type == delivery_target::kind::maildir) t.value = p.user_dir + "/" + t.value;
            raw.push_back(std::move(t));
        }
    }
    if (raw.empty()) {  // no file (or one without delivery lines): the mailbox, as before
        e.source = "mailbox";
        e.targets.push_back({delivery_target::kind::maildir, *p.own_maildir});
        return e;
    }
    bool forwards = false;
    std::set<std::string> seen;
    for (auto& t : raw) {
        if (t.type == delivery_target::kind::address && same_address(t.value, p.address)) {
            // Postfix: an alias naming itself means its own mailbox, not a loop.
            if (!p.own_maildir) {
                e.type = expansion::kind::unknown_user;
                e.reason = "unknown user (alias names itself, no mailbox)";
                e.targets.clear();
                return e;
            }
            t = {delivery_target::kind::maildir, *p.own_maildir};
        }
        if (t.type == delivery_target::kind::address) forwards = true;
        // One copy per target, however often it is listed (addresses compare case-insensitively).
        const std::string key = std::to_string(static_cast<int>(t.type)) +
                                (t.type == delivery_target::kind::address ? lower(t.value) : t.value);
        const bool dup = !seen.insert(key).second;
        if (!dup) e.targets.push_back(std::move(t));
    }
    if (forwards)
        for (std::size_t i = 0; i < p.owners.size(); ++i)
            if (p.owners[i].known || (i < f.owner_exists.size() && f.owner_exists[i])) {
                e.envelope_sender = p.owners[i].address;
                break;
            }
    return e;
}

bool is_own_mailbox_only(const expansion_plan& p, const expansion& e)
{
    return e.type == expansion::kind::targets && e.targets.size() == 1 &&
           e.targets[0].type == delivery_target::kind::maildir && p.own_maildir && e.targets[0].value == *p.own_maildir;
}

}  // namespace postrider::local
