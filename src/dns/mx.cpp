// dns/mx.cpp: PURE MX ordering (see mx.hpp).
#include "dns/mx.hpp"

#include <algorithm>

namespace postrider::dns {
namespace {

// is_null_target - RFC 7505 2: the target of a null MX is the root, "." (c-ares gives "").
bool is_null_target(std::string_view host) { return host.empty() || host == "."; }

// shuffle_range - Fisher-Yates over [first, last) with the injected generator.
void shuffle_range(std::vector<mx_record>& v, std::size_t first, std::size_t last, const random_below& rnd)
{
    for (std::size_t i = last - first; i > 1; --i) {
        std::size_t j = rnd(static_cast<std::uint32_t>(i));
        std::swap(v[first + i - 1], v[first + (j < i ? j : i - 1)]);
    }
}

}  // namespace

std::string normalise_host(std::string_view name)
{
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    std::string out(name);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool valid_host_name(std::string_view name)
{
    if (name.empty() || name.size() > 255) return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= name.size(); ++i) {
        if (i == name.size() || name[i] == '.') {
            if (label == 0 || label > 63) return false;
            if (name[i - 1] == '-' || name[i - label] == '-') return false;
            label = 0;
            continue;
        }
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
        ++label;
    }
    return true;
}

mx_plan plan_mx(std::vector<mx_record> records, const random_below& rnd)
{
    mx_plan plan;
    // RFC 7505 3: a domain with a null MX must have no other MX; when it is the
    // only record, mail is refused permanently. A null MX next to real ones is a
    // misconfiguration: ignore the null entry and use the others (as Postfix does).
    bool any_null = false;
    std::vector<mx_record> usable;
    for (auto& r : records) {
        if (is_null_target(r.host)) {
            any_null = true;
            continue;
        }
        std::string h = normalise_host(r.host);
        if (valid_host_name(h)) usable.push_back({r.preference, std::move(h)});
    }
    if (usable.empty()) {
        plan.kind = any_null ? mx_kind::null_mx : mx_kind::no_hosts;
        return plan;
    }
    std::stable_sort(usable.begin(), usable.end(),
                     [](const mx_record& a, const mx_record& b) { return a.preference < b.preference; });
    // RFC 5321 5.1: hosts of equal preference are tried in random order (load spreading).
    for (std::size_t first = 0; first < usable.size();) {
        std::size_t last = first;
        while (last < usable.size() && usable[last].preference == usable[first].preference) ++last;
        shuffle_range(usable, first, last, rnd);
        first = last;
    }
    for (auto& r : usable)
        if (std::find(plan.hosts.begin(), plan.hosts.end(), r.host) == plan.hosts.end())
            plan.hosts.push_back(std::move(r.host));
    return plan;
}

mx_plan implicit_mx(std::string_view domain)
{
    mx_plan plan;
    std::string h = normalise_host(domain);
    if (!valid_host_name(h)) {
        plan.kind = mx_kind::no_hosts;
        return plan;
    }
    plan.hosts.push_back(std::move(h));
    return plan;
}

}  // namespace postrider::dns
