// local/maildir.hpp: deliver one message into a maildir (cr.yp.to/proto/maildir.html).
//
// Owns: unique file names, the tmp/ -> new/ protocol, the prepended
//       Return-Path:/Delivered-To: lines, and creating a missing Maildir (0700).
// Trust: the maildir path was built by mailbox_table::lookup() from validated
//        parts and is under the mail root; the content is the queued message
//        (the peer's bytes, CRLF-normalised). Header values are stripped of CR,
//        LF and NUL before use, so an address can never add a header line.
// Flushing: stage() writes tmp/NAME and publish() renames it into new/. With
//        fsync_each, stage fsyncs the file and publish fsyncs new/; without it
//        the caller (queue::disk_worker) runs syncfs() after each phase, so
//        the file is durable before the rename and the rename before the
//        delivery is journalled: no torn file ever appears in new/.
// See also: queue/manager.cpp (delivery), docs/queue-format.md ("Maildir delivery").
#pragma once

#include "local/fs_ops.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace postrider::local {

// unique_name - PURE: "<sec>.M<usec>P<pid><tag>.<host>", host with '/' and ':' escaped (\057, \072).
//               tag must hold no '.', '/' or ':' (delivery_tag() output does not).
std::string unique_name(std::int64_t unix_us, long pid, std::string_view tag, std::string_view host);
// delivery_tag - PURE: "K<queue id>-<recipient index>". It names one (message, recipient)
//                delivery, so a retry can find a copy an earlier attempt left (a crash
//                between the rename into new/ and the journal record).
std::string delivery_tag(std::string_view queue_id, std::size_t rcpt);
// has_delivery_tag - PURE: the unique part of name (between its first and second '.')
//                    ends with tag. Flags (":2,S" in cur/) and the host do not matter.
bool has_delivery_tag(std::string_view name, std::string_view tag);
// find_delivery - the file in new/ or cur/ of maildir named with tag, in found (empty: none; a
//                 missing directory holds none). Reads the directories, O(files): call it only
//                 when an earlier attempt may have left a copy.
std::error_code find_delivery(const std::filesystem::path& maildir, std::string_view tag,
                              std::filesystem::path& found);
// make_durable - fsync file and its directory: a copy left by an earlier attempt (or an earlier
//                life) may not have reached the disk, its rename least of all.
std::error_code make_durable(fs_ops& fs, const std::filesystem::path& file);
// delivery_prefix - PURE: "Return-Path: <sender>\nDelivered-To: rcpt\n" with CR/LF/NUL removed.
std::string delivery_prefix(std::string_view sender, std::string_view recipient);
// to_lf - PURE: CRLF line ends to LF (maildir files use the local newline convention).
std::string to_lf(std::string_view content);
// to_lf_in_place - PURE: the same, in the string itself (no second copy of a 25 MiB message).
void to_lf_in_place(std::string& content);

class maildir_delivery {
public:
    // maildir_delivery - one delivery of bytes (prefix lines, then the LF-converted message) into maildir.
    maildir_delivery(fs_ops& fs, std::filesystem::path maildir, std::string name, bool fsync_each);
    // stage - write head then body to tmp/NAME; maildir/{tmp,new,cur} are made when tmp/ is missing
    //         (fsync it with fsync_each). Two parts, so the message is never copied to prepend.
    std::error_code stage(std::string_view head, std::string_view body = {});
    // publish - rename tmp/NAME to new/NAME (fsync new/ with fsync_each).
    std::error_code publish();
    // discard - remove whatever stage/publish left (after a failed flush); best effort.
    //           false: a file may be left (an unlink failed other than with ENOENT).
    bool discard();
    // path_in_new - where the message is once published.
    std::filesystem::path path_in_new() const { return maildir_ / "new" / name_; }

private:
    fs_ops& fs_;
    std::filesystem::path maildir_;
    std::string name_;
    // path_in - maildir/SUB/NAME.
    std::string path_in(const char* sub) const;
    // make_maildir - create maildir/{tmp,new,cur} where missing.
    std::error_code make_maildir();
    bool fsync_each_;
};

}  // namespace postrider::local
