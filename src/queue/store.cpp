// queue/store.cpp: queue directory steps (see store.hpp and docs/queue-format.md).
#include "queue/store.hpp"

#include "core/escape.hpp"
#include "log/log.hpp"
#include "queue/queue_id.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace postrider::queue {

namespace fs = std::filesystem;

store::store(local::fs_ops& fsys, fs::path dir, flush_mode mode)
    : fs_(fsys), dir_(std::move(dir)), mode_(mode)
{
}

void store::create_dirs()
{
    for (const char* sub : {"", "tmp", "mess", "env", "corrupt"}) {
        fs::path p = dir_ / sub;
        if (auto ec = local::make_dirs(fs_, p, 0700))
            throw std::runtime_error("queue directory " + p.string() + ": " + ec.message());
        if (::access(p.c_str(), R_OK | W_OK | X_OK) != 0)
            throw std::runtime_error("queue directory " + p.string() + ": " + local::last_error().message());
    }
}

std::error_code store::commit(const std::string& id, std::string_view head, std::string_view body, envelope& env)
{
    const bool sync = mode_ == flush_mode::per_file;
    env.message_size = head.size() + body.size();
    env.message_crc = crc32(body, crc32(head));
    fs::path tmp_mess = dir_ / "tmp" / (id + ".mess"), tmp_env = dir_ / "tmp" / (id + ".env");
    fs::path mess = dir_ / "mess" / id, envf = dir_ / "env" / id;
    if (auto ec = local::write_new_file(fs_, tmp_mess, head, body, sync)) return ec;
    if (auto ec = local::write_new_file(fs_, tmp_env, encode_envelope(env), {}, sync)) {
        fs_.unlink(tmp_mess.c_str());
        return ec;
    }
    std::error_code ec;
    if (fs_.rename(tmp_mess.c_str(), mess.c_str()) != 0) {
        ec = local::last_error();
        fs_.unlink(tmp_mess.c_str());
        fs_.unlink(tmp_env.c_str());
        return ec;
    }
    if (sync) ec = local::fsync_dir(fs_, dir_ / "mess");
    if (!ec && fs_.rename(tmp_env.c_str(), envf.c_str()) != 0) ec = local::last_error();
    if (!ec && sync) {
        ec = local::fsync_dir(fs_, dir_ / "env");
        if (ec) fs_.unlink(envf.c_str());
    }
    if (ec) {
        fs_.unlink(tmp_env.c_str());
        fs_.unlink(mess.c_str());
    }
    return ec;
}

void store::undo_commit(const std::string& id)
{
    fs_.unlink((dir_ / "env" / id).c_str());
    fs_.unlink((dir_ / "mess" / id).c_str());
}

std::error_code store::append(const std::string& id, const outcome& o)
{
    return local::append_file(fs_, dir_ / "env" / id, encode_outcome(o), mode_ == flush_mode::per_file);
}

std::error_code store::read_message(const std::string& id, std::string& out)
{
    return local::read_file(fs_, dir_ / "mess" / id, out, max_message_file);
}

std::error_code store::remove(const std::string& id)
{
    std::error_code ec;
    if (fs_.unlink((dir_ / "env" / id).c_str()) != 0 && errno != ENOENT) ec = local::last_error();
    if (!ec && fs_.unlink((dir_ / "mess" / id).c_str()) != 0 && errno != ENOENT) ec = local::last_error();
    return ec;
}

void store::quarantine(const std::string& name, const std::string& why)
{
    log::warn("{}: quarantined to corrupt/ reason=\"{}\"", core::escape(name), core::escape(why));
    for (const char* sub : {"env", "mess"}) {
        fs::path from = dir_ / sub / name, to = dir_ / "corrupt" / (name + "." + sub);
        fs_.rename(from.c_str(), to.c_str());  // ENOENT for a missing half is fine
    }
}

bool store::load_one(const std::string& id, recovered_message& out, std::string& why)
{
    std::string bytes;
    if (auto ec = local::read_file(fs_, dir_ / "env" / id, bytes, max_record_octets * 4)) {
        why = "cannot read envelope: " + ec.message();
        return false;
    }
    auto d = decode_env_file(bytes);
    if (!d.file) {
        why = "bad envelope at offset " + std::to_string(d.error->offset) + ": " + d.error->what;
        return false;
    }
    if (d.file->env.queue_id != id) {
        why = "envelope names another queue id";
        return false;
    }
    std::string content;
    if (auto ec = read_message(id, content)) {
        why = "cannot read message: " + ec.message();
        return false;
    }
    if (content.size() != d.file->env.message_size || crc32(content) != d.file->env.message_crc) {
        why = "message length or CRC does not match its envelope (torn, unacknowledged commit?)";
        return false;
    }
    out.env = std::move(d.file->env);
    out.journal = std::move(d.file->journal);
    return true;
}

recovery_report store::recover()
{
    recovery_report r;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ / "tmp", ec)) {
        if (fs_.unlink(e.path().c_str()) == 0) ++r.tmp_removed;
    }
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ / "env", ec)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        recovered_message m;
        std::string why;
        if (!is_valid_queue_id(name)) why = "file name is not a queue id";
        else if (load_one(name, m, why)) {
            r.messages.push_back(std::move(m));
            continue;
        }
        quarantine(name, why);
        ++r.quarantined;
    }
    for (const auto& e : fs::directory_iterator(dir_ / "mess", ec)) {
        std::string name = e.path().filename().string();
        if (std::binary_search(names.begin(), names.end(), name)) continue;
        if (fs_.unlink(e.path().c_str()) == 0) ++r.orphans_removed;
    }
    return r;
}

}  // namespace postrider::queue
