// pickup/service.cpp: maildrop pickup (see service.hpp).
#include "pickup/service.hpp"

#include <sys/inotify.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "core/escape.hpp"
#include "log/log.hpp"
#include "pickup/drop_format.hpp"
#include "pickup/maildrop.hpp"

namespace postrider::pickup {

namespace asio = boost::asio;

service::service(asio::any_io_executor ex, service_settings s, queue::submitter& queue)
    : ex_(ex), s_(std::move(s)), queue_(queue), maildrop_(maildrop_path(s_.queue_dir)), inotify_(ex), timer_(ex)
{
}

service::~service() = default;

void service::start()
{
    if (auto ec = ensure_maildrop(s_.queue_dir))
        throw std::runtime_error("maildrop " + maildrop_.string() + ": " + ec.message());
    if (s_.postdrop_gid) {
        if (auto ec = share_maildrop(s_.queue_dir, *s_.postdrop_gid))
            throw std::runtime_error("maildrop " + maildrop_.string() + ": giving it to postdrop_group: " + ec.message());
        log::info("pickup: maildrop open to group {} through postrider-postdrop", *s_.postdrop_gid);
    }
    if (auto n = clean_tmp(maildrop_, 24 * 3600)) log::info("pickup: removed {} stale maildrop/tmp files", n);
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("inotify_init1: ") + std::strerror(errno));
    inotify_.assign(fd);
    // IN_MOVED_TO: the wrapper's rename into new/ (the only way a file should arrive);
    // IN_CLOSE_WRITE: a file written in place by something else (still validated).
    if (::inotify_add_watch(fd, (maildrop_ / "new").c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
        throw std::runtime_error(std::string("inotify_add_watch: ") + std::strerror(errno));
    asio::co_spawn(ex_, run(), [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log::error("pickup: stopped by an exception: {}", core::escape(x.what()));
        }
    });
    log::info("pickup: watching {}", core::escape((maildrop_ / "new").string()));
}

void service::stop()
{
    asio::post(ex_, [this] {
        stopping_ = true;
        boost::system::error_code ec;
        inotify_.cancel(ec);
        timer_.cancel();
    });
}

asio::awaitable<void> service::run()
{
    using namespace asio::experimental::awaitable_operators;
    constexpr auto tok = asio::as_tuple(asio::use_awaitable);
    std::array<char, 4096> events;
    while (!stopping_) {
        const bool done = co_await scan();
        if (stopping_) break;
        // Events only wake us; the directory listing is the truth (so a queue
        // overflow of inotify events loses nothing).
        timer_.expires_after(done ? std::chrono::hours(24) : s_.retry_delay);
        auto r = co_await (inotify_.async_read_some(asio::buffer(events), tok) || timer_.async_wait(tok));
        if (r.index() == 0) {
            auto [ec, n] = std::get<0>(r);
            if (ec && ec != asio::error::operation_aborted) {
                log::error("pickup: inotify read failed: {}", ec.message());
                break;
            }
        }
    }
    log::info("pickup: stopped");
}

asio::awaitable<bool> service::scan()
{
    for (const auto& name : list_new(maildrop_)) {
        if (stopping_) co_return true;
        if (!co_await take(name)) co_return false;
    }
    co_return true;
}

void service::refuse(const std::string& name, const std::string& why)
{
    ++stats_.quarantined;
    if (auto ec = quarantine_drop(maildrop_, name))
        log::error("pickup: maildrop file {} is invalid ({}) and could not be quarantined: {}", name, why, ec.message());
    else
        log::warn("pickup: maildrop file {} quarantined: {}", name, why);
}

std::optional<service::prepared> service::prepare(const std::string& name)
{
    const std::size_t max_read = s_.limits.max_size ? s_.limits.max_size + 1024 * 1024 : max_drop_payload;
    auto r = read_drop(maildrop_, name, max_read);
    if (r.ec == std::errc::no_such_file_or_directory) return std::nullopt;  // taken already
    if (r.ec) return refuse(name, "unreadable: " + r.ec.message()), std::nullopt;
    if (!r.refusal.empty()) return refuse(name, r.refusal), std::nullopt;
    auto decoded = decode_drop(r.bytes);
    if (!decoded.message) return refuse(name, decoded.error), std::nullopt;
    prepared p;
    p.qid = queue_.allocate_id();
    p.owner = static_cast<unsigned>(r.owner);
    drop_origin origin{s_.hostname, p.qid, p.owner, std::time(nullptr), s_.hide_client};
    auto v = validate_drop(std::move(*decoded.message), s_.limits, origin);
    if (!v.message) return refuse(name, v.error), std::nullopt;
    p.message = std::move(*v.message);
    masquerade_drop(p.message, s_.masquerade);
    return p;
}

asio::awaitable<bool> service::take(std::string name)
{
    auto p = prepare(name);
    if (!p) co_return true;
    const auto size = p->message.trace.size() + p->message.content.size() - p->message.content_skip;
    const auto nrcpt = p->message.recipients.size();
    const auto sender = core::escape(p->message.sender);
    busy_ = true;
    auto result = co_await queue_.submit(p->qid, std::move(p->message));
    busy_ = false;
    if (!result.ok) {
        log::warn("pickup: maildrop file {} not queued (retrying): {}", name, core::escape(result.reason));
        co_return false;
    }
    // Only now, after the durable commit, may the maildrop copy go.
    if (auto ec = remove_drop(maildrop_, name))
        log::error("{}: maildrop file {} could not be removed ({}): it will be queued again", p->qid, name,
                   ec.message());
    ++stats_.picked_up;
    log::info("{}: pickup maildrop={} uid={} from=<{}> size={} nrcpt={}", p->qid, name, p->owner, sender, size, nrcpt);
    co_return true;
}

}  // namespace postrider::pickup
