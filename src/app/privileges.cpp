#include "app/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace postrider::app {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& what)
{
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

void give(const fs::path& p, const service_identity& id)
{
    if (::lchown(p.c_str(), id.uid, id.gid) != 0) fail("chown " + p.string());
}

}  // namespace

service_identity resolve_identity(const std::string& user, const std::string& group)
{
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found)
        throw std::runtime_error("user: no such user '" + user + "'");
    service_identity id{user, pw.pw_uid, pw.pw_gid};
    if (!group.empty()) {
        ::group gr{};
        ::group* g = nullptr;
        if (getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &g) != 0 || !g)
            throw std::runtime_error("group: no such group '" + group + "'");
        id.gid = gr.gr_gid;
    }
    if (id.uid == 0) throw std::runtime_error("user: '" + user + "' is root; the service user must not be");
    if (id.gid == 0) throw std::runtime_error("group: the service group must not be gid 0");
    return id;
}

void hand_over_dirs(const service_identity& id, const std::vector<std::string>& dirs)
{
    for (const auto& d : dirs) {
        std::error_code ec;
        fs::create_directories(d, ec);
        if (ec) throw std::runtime_error("mkdir " + d + ": " + ec.message());
        struct stat st {};
        if (::lstat(d.c_str(), &st) != 0) fail("stat " + d);
        if (!S_ISDIR(st.st_mode)) throw std::runtime_error(d + ": not a directory (a symlink is not followed)");
        // 0700 every start (postdrop_group's 0710 on the queue is set again right after).
        if (::chmod(d.c_str(), 0700) != 0) fail("chmod " + d);
        if (st.st_uid != id.uid || st.st_gid != id.gid) give(d, id);
    }
}

void drop(const service_identity& id)
{
    const gid_t groups[1] = {id.gid};
    if (::setgroups(1, groups) != 0) fail("setgroups");
    if (::setresgid(id.gid, id.gid, id.gid) != 0) fail("setresgid");
    if (::setresuid(id.uid, id.uid, id.uid) != 0) fail("setresuid");
    uid_t r, e, s;
    if (::getresuid(&r, &e, &s) != 0 || r != id.uid || e != id.uid || s != id.uid)
        throw std::runtime_error("setresuid: uid did not change");
    // Postfix's paranoia: if root can be regained, the drop did not happen.
    if (::setuid(0) == 0 || ::seteuid(0) == 0) throw std::runtime_error("privilege drop failed: root regained");
}

}  // namespace postrider::app
