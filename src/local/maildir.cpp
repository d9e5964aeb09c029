// local/maildir.cpp: maildir writing (tmp/ -> new/) through the fs_ops seam.
#include "local/maildir.hpp"

#include <fmt/format.h>

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

std::string unique_name(std::int64_t unix_us, long pid, std::uint64_t n, std::string_view host)
{
    std::string h;
    for (char c : host) {
        if (c == '/') h += "\\057";
        else if (c == ':') h += "\\072";
        else h += c;
    }
    return fmt::format("{}.M{}P{}Q{}.{}", unix_us / 1000000, unix_us % 1000000, pid, n, h);
}

std::string delivery_prefix(std::string_view sender, std::string_view recipient)
{
    return "Return-Path: <" + clean_header_value(sender) + ">\nDelivered-To: " +
           clean_header_value(recipient) + "\n";
}

std::string to_lf(std::string_view content)
{
    std::string out;
    out.reserve(content.size());
    for (std::size_t i = 0; i < content.size(); ++i) {
        if (content[i] == '\r' && i + 1 < content.size() && content[i + 1] == '\n') continue;
        out += content[i];
    }
    return out;
}

maildir_delivery::maildir_delivery(fs_ops& fs, std::filesystem::path maildir, std::string name,
                                   bool fsync_each)
    : fs_(fs), maildir_(std::move(maildir)), name_(std::move(name)), fsync_each_(fsync_each)
{
}

std::error_code maildir_delivery::stage(std::string_view bytes)
{
    for (const char* sub : {"tmp", "new", "cur"})
        if (auto ec = make_dirs(fs_, maildir_ / sub, 0700)) return ec;
    return write_new_file(fs_, maildir_ / "tmp" / name_, bytes, {}, fsync_each_);
}

std::error_code maildir_delivery::publish()
{
    auto from = maildir_ / "tmp" / name_;
    auto to = maildir_ / "new" / name_;
    if (fs_.rename(from.c_str(), to.c_str()) != 0) return last_error();
    if (fsync_each_) return fsync_dir(fs_, maildir_ / "new");
    return {};
}

void maildir_delivery::discard()
{
    fs_.unlink((maildir_ / "tmp" / name_).c_str());
    fs_.unlink((maildir_ / "new" / name_).c_str());
}

}  // namespace postrider::local
