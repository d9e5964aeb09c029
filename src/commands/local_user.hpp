// commands/local_user.hpp: who is running the tool, and the domain we complete addresses with.
//
// Owns: the login and full name used for From: and the default envelope sender.
// Trust: from the password database by real uid (not from $USER, which the
//        caller controls); the full name may be overridden by -F, as in sendmail.
#pragma once

#include <optional>
#include <string>

#include "config/settings.hpp"

namespace postrider::commands {

struct local_user {
    std::string login;
    std::string full_name;  // passwd GECOS up to the first comma; may be empty
    unsigned uid = 0;
};

// current_user - the passwd entry of getuid(); nullopt when there is none.
std::optional<local_user> current_user();
// origin_domain - myorigin; else the first local domain (so bounces to local senders stay
//                 local), else the hostname.
std::string origin_domain(const config::settings& s);
// our_hostname - hostname setting, else the machine's name.
std::string our_hostname(const config::settings& s);

}  // namespace postrider::commands
