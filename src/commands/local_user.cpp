// commands/local_user.cpp: the invoking user (see local_user.hpp).
#include "commands/local_user.hpp"

#include <pwd.h>
#include <unistd.h>

namespace postrider::commands {

std::optional<local_user> current_user()
{
    const uid_t uid = ::getuid();
    struct passwd* pw = ::getpwuid(uid);
    if (!pw || !pw->pw_name || !*pw->pw_name) return std::nullopt;
    local_user u;
    u.login = pw->pw_name;
    u.uid = static_cast<unsigned>(uid);
    if (pw->pw_gecos) {
        std::string g = pw->pw_gecos;
        u.full_name = g.substr(0, g.find(','));
    }
    return u;
}

std::string our_hostname(const config::settings& s)
{
    if (!s.hostname.empty()) return s.hostname;
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
    return name;
}

std::string origin_domain(const config::settings& s)
{
    if (!s.myorigin.empty()) return s.myorigin;
    return s.local_domains.empty() ? our_hostname(s) : s.local_domains.front();
}

}  // namespace postrider::commands
