// commands/submit_drop.cpp: address qualification and maildrop writes (see submit_drop.hpp).
#include "commands/submit_drop.hpp"

#include <sysexits.h>

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

std::error_code write_to_maildrop(const config::settings& s, const pickup::dropped_message& m, std::string& name)
{
    if (auto ec = pickup::ensure_maildrop(s.queue_dir)) return ec;
    queue::queue_id_generator ids;
    name = ids.next();
    return pickup::write_drop(pickup::maildrop_path(s.queue_dir), name, pickup::encode_drop(m));
}

drop_outcome drop_message(const config::settings& s, const pickup::dropped_message& m)
{
    drop_outcome out;
    auto ec = write_to_maildrop(s, m, out.name);
    if (!ec) return out;
    if (drop_failure_exit(ec) != EX_NOPERM) return {drop_failure_exit(ec), {}, drop_failure_text(s, ec)};
    auto r = run_postdrop(s, pickup::encode_drop(m));
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
