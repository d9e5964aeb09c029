// pickup/maildrop.hpp: the maildrop directory on disk: write (sendmail
//                      wrapper), list, read, remove and quarantine (pickup).
//
// Owns: the layout <queue_dir>/maildrop/{tmp,new,quarantine} and the
//       durable drop step: tmp/NAME written and fsync'd, renamed to new/NAME,
//       new/ fsync'd. A message is in the maildrop exactly when new/NAME exists.
// Trust: names read from new/ must pass queue::is_valid_queue_id before use;
//        files are opened with O_NOFOLLOW and must be regular, single-link
//        and not larger than the read limit (a planted symlink or hard link
//        cannot make pickup read another file). Content is decoded and
//        validated by the pure drop_format / validate code.
// Blocking: plain POSIX calls. The wrapper is a short-lived process; the
//        daemon's pickup calls them on the event loop (see service.hpp).
// See also: docs/sendmail.md, docs/security.md.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace postrider::pickup {

// maildrop_path - <queue_dir>/maildrop.
std::filesystem::path maildrop_path(const std::filesystem::path& queue_dir);

// ensure_maildrop - create queue_dir (if missing), maildrop/, tmp/, new/ and
//                   quarantine/ with mode 0700. When run as root, hand new
//                   directories to the owner of queue_dir, so a daemon running
//                   as the service user can use them.
std::error_code ensure_maildrop(const std::filesystem::path& queue_dir);

// share_maildrop - for the set-group-id postrider-postdrop (docs/security.md rule 1):
//                  queue_dir 0710 and maildrop/, tmp/, new/ 1730, all group gid
//                  (the group may pass through and create files, never list or
//                  remove others' files); quarantine/ stays 0700.
std::error_code share_maildrop(const std::filesystem::path& queue_dir, gid_t gid);

// write_drop - tmp/NAME (0600) written and fsync'd, renamed to new/NAME, new/ fsync'd.
//              On failure nothing is left in new/ (and tmp/NAME is removed).
std::error_code write_drop(const std::filesystem::path& maildrop, const std::string& name, std::string_view bytes);

// list_new - valid queue-id names in new/, sorted (arrival order); others are ignored.
std::vector<std::string> list_new(const std::filesystem::path& maildrop);

struct read_result {
    std::error_code ec;    // I/O error (ENOENT: already gone)
    std::string refusal;   // set when the file must be quarantined (not regular, links, too big)
    std::string bytes;
    uid_t owner = 0;
};

// read_drop - the bytes of new/NAME, at most max_octets.
read_result read_drop(const std::filesystem::path& maildrop, const std::string& name, std::size_t max_octets);

// remove_drop - unlink new/NAME after its message was committed to the queue.
std::error_code remove_drop(const std::filesystem::path& maildrop, const std::string& name);

// quarantine_drop - rename new/NAME to quarantine/NAME (kept for the admin, never read again).
std::error_code quarantine_drop(const std::filesystem::path& maildrop, const std::string& name);

// clean_tmp - remove tmp/ files older than max_age_s (a wrapper that died while writing).
std::size_t clean_tmp(const std::filesystem::path& maildrop, long max_age_s);

}  // namespace postrider::pickup
