// commands/submit_drop.cpp: address qualification and maildrop writes (see submit_drop.hpp).
#include "commands/submit_drop.hpp"

#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "commands/postdrop_client.hpp"
#include "pickup/maildrop.hpp"
#include "queue/queue_id.hpp"
#include "smtp/address.hpp"

namespace postrider::commands {

std::optional<std::string> qualify(std::string_view raw, const std::string& domain, bool& utf8)
{
    std::string a(raw);
    if (a.find('@') == std::string::npos) a += "@" + domain;
    for (bool with_utf8 : {false, true}) {
        auto p = smtp::parse_forward_path("<" + a + ">", with_utf8, domain);
        if (p.ok() && p.box) {
            utf8 = utf8 || with_utf8;
            return p.box->str();
        }
        if (p.error != smtp::address_error::needs_smtputf8) break;
    }
    return std::nullopt;
}

std::error_code write_to_maildrop(const config::settings& s, std::string_view record, std::string& name)
{
    if (auto ec = pickup::ensure_maildrop(s.queue_dir)) return ec;
    queue::queue_id_generator ids;
    name = ids.next();
    return pickup::write_drop(pickup::maildrop_path(s.queue_dir), name, record);
}

namespace {

// writes_directly - root or the owner of queue_dir (or nobody yet: the first run creates it).
// Anyone else, a member of postdrop_group included, goes through postrider-postdrop: such a
// member may create files in maildrop/new (mode 1730) but could neither open new/ to make the
// rename durable nor leave a file the daemon can read (tmp files are 0600), and the refused
// fsync after the rename would send a second copy through the helper.
bool writes_directly(const config::settings& s)
{
    struct stat st{};
    return ::geteuid() == 0 || ::stat(s.queue_dir.c_str(), &st) != 0 || st.st_uid == ::geteuid();
}

}  // namespace

drop_outcome drop_message(const config::settings& s, const pickup::dropped_message& m)
{
    drop_outcome out;
    const std::string record = pickup::encode_drop(m);  // once: the helper gets the same bytes
    if (writes_directly(s)) {
        auto ec = write_to_maildrop(s, record, out.name);
        if (!ec) return out;
        if (drop_failure_exit(ec) != EX_NOPERM) return {drop_failure_exit(ec), {}, drop_failure_text(s, ec)};
    }
    auto r = run_postdrop(s, record);
    out.status = r.status;
    out.name = r.name;
    out.error = !r.error.empty() ? r.error
              : r.status != EX_OK ? "the postdrop helper refused the message (exit " + std::to_string(r.status) + ")"
                                  : std::string{};
    return out;
}

std::string drop_failure_text(const config::settings& s, std::error_code ec)
{
    std::string text = "cannot write to the maildrop " + pickup::maildrop_path(s.queue_dir).string() + ": " + ec.message();
    if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted)
        text += " (only root, the owner of queue_dir and, through postrider-postdrop, users when postdrop_group "
                "is set may inject mail; see docs/security.md)";
    return text;
}

int drop_failure_exit(std::error_code ec)
{
    if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) return EX_NOPERM;
    return EX_TEMPFAIL;
}

}  // namespace postrider::commands
