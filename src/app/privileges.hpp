// app/privileges.hpp: running as the service user after binding the listeners.
//
// Owns: resolving the configured user/group, handing the state directories
//       to them, and the irreversible drop (setgroups, setresgid, setresuid).
// Trust: names come from the admin (trusted, fallible). After drop() the
//        process cannot regain root: drop() checks that setuid(0) fails.
// See also: docs/security.md (rules 6-8), serve.cpp (the order: bind, drop, start).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace postrider::app {

struct service_identity {
    std::string user;
    uid_t uid = 0;
    gid_t gid = 0;
};

// resolve_identity - the user (and group, default: the user's primary group); throws
//                    std::runtime_error for unknown names or uid/gid 0.
service_identity resolve_identity(const std::string& user, const std::string& group);

// hand_over_dirs - create each directory, make it 0700 and give it to the identity.
//                  The top directory only: root never walks a tree the service user
//                  can change (a swapped symlink could redirect the walk). Root only.
void hand_over_dirs(const service_identity& id, const std::vector<std::string>& dirs);

// drop - setgroups({gid}), setresgid, setresuid; throws std::runtime_error if any
//        step fails or root can be regained afterwards.
void drop(const service_identity& id);

}  // namespace postrider::app
