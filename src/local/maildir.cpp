// local/maildir.cpp: maildir writing (tmp/ -> new/) through the fs_ops seam.
#include "local/maildir.hpp"

#include <fmt/format.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace postrider::local {
namespace {

// clean_header_value - drop bytes that could end or corrupt a header line.
std::string clean_header_value(std::string_view v)
{
    std::string out;
    for (char c : v)
        if (c != '\r' && c != '\n' && c != '\0') out += c;
    return out;
}

}  // namespace

std::string unique_name(std::int64_t unix_us, long pid, std::string_view tag, std::string_view host)
{
    std::string h;
    for (char c : host) {
        if (c == '/') h += "\\057";
        else if (c == ':') h += "\\072";
        else h += c;
    }
    return fmt::format("{}.M{}P{}{}.{}", unix_us / 1000000, unix_us % 1000000, pid, tag, h);
}

std::string delivery_tag(std::string_view queue_id, std::size_t rcpt)
{
    return fmt::format("K{}-{}", queue_id, rcpt);
}

bool has_delivery_tag(std::string_view name, std::string_view tag)
{
    auto first = name.find('.');
    if (first == std::string_view::npos) return false;
    auto second = name.find('.', first + 1);
    if (second == std::string_view::npos) return false;
    // The tag's '-' cannot occur in a queue id, so a match at the end is exact:
    // "K<id>-1" never matches a name ending in "K<id>-11".
    return name.substr(first + 1, second - first - 1).ends_with(tag);
}

std::error_code find_delivery(const std::filesystem::path& maildir, std::string_view tag,
                              std::filesystem::path& found)
{
    found.clear();
    for (const char* sub : {"new", "cur"}) {
        std::error_code ec;
        std::filesystem::directory_iterator it(maildir / sub, ec), end;
        if (ec == std::errc::no_such_file_or_directory) continue;
        for (; !ec && it != end; it.increment(ec)) {
            if (has_delivery_tag(it->path().filename().native(), tag)) {
                found = it->path();
                return {};
            }
        }
        if (ec) return ec;
    }
    return {};
}

std::error_code make_durable(fs_ops& fs, const std::filesystem::path& file)
{
    int fd = fs.open(file.c_str(), O_RDONLY, 0);
    if (fd < 0) return last_error();
    std::error_code ec;
    if (fs.fsync(fd) != 0) ec = last_error();
    fs.close(fd);
    if (ec) return ec;
    return fsync_dir(fs, file.parent_path());
}

std::string delivery_prefix(std::string_view sender, std::string_view recipient)
{
    return "Return-Path: <" + clean_header_value(sender) + ">\nDelivered-To: " +
           clean_header_value(recipient) + "\n";
}

std::string to_lf(std::string_view content)
{
    std::string out(content);
    to_lf_in_place(out);
    return out;
}

void to_lf_in_place(std::string& content)
{
    // Moves the runs between CRLFs (memchr finds each CR) instead of testing every octet.
    const std::size_t size = content.size();
    char* const data = content.data();
    std::size_t w = 0, i = 0;
    while (i < size) {
        const void* cr = std::memchr(data + i, '\r', size - i);
        const std::size_t end = cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - data) : size;
        if (w != i) std::memmove(data + w, data + i, end - i);
        w += end - i;
        i = end;
        if (i == size) break;
        if (i + 1 < size && data[i + 1] == '\n') {
            ++i;  // drop the CR of a CRLF
        } else {
            data[w++] = '\r';  // a lone CR stays
            ++i;
        }
    }
    content.resize(w);
}

maildir_delivery::maildir_delivery(fs_ops& fs, std::filesystem::path maildir, std::string name,
                                   bool fsync_each)
    : fs_(fs), maildir_(std::move(maildir)), name_(std::move(name)), fsync_each_(fsync_each)
{
}

std::string maildir_delivery::path_in(const char* sub) const
{
    // Joined as text: path's operator/ splits every component again (a tenth of the user-space
    // instructions of a maildir delivery in bench S1). maildir_ comes from the mailbox table.
    std::string p = maildir_.native();
    p += '/';
    p += sub;
    p += '/';
    p += name_;
    return p;
}

std::error_code maildir_delivery::make_maildir()
{
    for (const char* sub : {"tmp", "new", "cur"})
        if (auto ec = make_dirs(fs_, maildir_ / sub, 0700, fsync_each_)) return ec;
    return {};
}

std::error_code maildir_delivery::stage(std::string_view head, std::string_view body)
{
    // The maildir almost always exists: try the file first and make the directories only when
    // tmp/ is missing (three stat calls per delivery saved).
    const std::string tmp = path_in("tmp");
    auto ec = write_new_file(fs_, tmp.c_str(), head, body, fsync_each_);
    if (ec != std::errc::no_such_file_or_directory) return ec;
    if (auto made = make_maildir()) return made;
    return write_new_file(fs_, tmp.c_str(), head, body, fsync_each_);
}

std::error_code maildir_delivery::publish()
{
    const std::string from = path_in("tmp"), to = path_in("new");
    if (fs_.rename(from.c_str(), to.c_str()) != 0) {
        // new/ removed since stage(): make it again, once.
        if (errno != ENOENT) return last_error();
        if (auto ec = make_maildir()) return ec;
        if (fs_.rename(from.c_str(), to.c_str()) != 0) return last_error();
    }
    if (fsync_each_) return fsync_dir(fs_, maildir_ / "new");
    return {};
}

bool maildir_delivery::discard()
{
    bool clean = true;
    for (const char* sub : {"tmp", "new"})
        if (fs_.unlink((maildir_ / sub / name_).c_str()) != 0 && errno != ENOENT) clean = false;
    return clean;
}

}  // namespace postrider::local
