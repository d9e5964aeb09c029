// dns/resolver.cpp: c-ares driven by Asio (see resolver.hpp and TOOLCHAIN.md section 4).
//
// c-ares version matrix: written for 1.18.1 (Debian 12). Uses ares_query +
// ares_parse_mx_reply (no TTL in the MX struct: answer_ttl.hpp reads the TTLs
// from the raw answer), ares_getaddrinfo (ai_ttl per
// address), ares_process_fd and the socket-state callback. Newer APIs
// (ares_process_fds, ares_dns_record_*, event threads) are not used.
#include "dns/resolver.hpp"

#include "dns/answer_ttl.hpp"

#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace postrider::dns {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

// init_library - ares_library_init once per process.
void init_library()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (int st = ares_library_init(ARES_LIB_INIT_ALL); st != ARES_SUCCESS)
            throw std::runtime_error(std::string("c-ares init: ") + ares_strerror(st));
    });
}

// join_servers - "a:p,b:p" for ares_set_servers_ports_csv.
std::string join_servers(const std::vector<std::string>& servers)
{
    std::string csv;
    for (const auto& s : servers) csv += (csv.empty() ? "" : ",") + s;
    return csv;
}

// aborted - the error a cancelled lookup completes with.
std::error_code aborted() { return std::make_error_code(std::errc::operation_canceled); }

}  // namespace

// One c-ares socket, wrapped so Asio can tell us when it is ready.
struct fd_watch {
    fd_watch(asio::any_io_executor ex, int fd) : sd(ex, fd), fd(fd) {}
    asio::posix::stream_descriptor sd;
    int fd;
    bool want_read = false, want_write = false;
    bool read_armed = false, write_armed = false;
    bool closed = false;  // c-ares closed it: pending waits must do nothing
};

// One lookup in flight. The handler is moved out exactly once (done guards it).
template <class Answer>
struct pending_query {
    asio::any_completion_handler<void(Answer)> handler;
    asio::any_io_executor ex;  // ours; post() still runs the handler on its associated executor
    bool done = false;

    pending_query(asio::any_completion_handler<void(Answer)> h, asio::any_io_executor io)
        : handler(std::move(h)), ex(std::move(io))
    {
    }
    // complete - post the handler with a; later calls (late c-ares answer after cancel) do nothing.
    void complete(Answer a)
    {
        if (done) return;
        done = true;
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) slot.clear();
        asio::post(ex, asio::append(std::move(handler), std::move(a)));
    }
};

template <class Answer>
struct cache_entry {
    steady::time_point expiry;
    Answer answer;
};

struct resolver::impl : std::enable_shared_from_this<impl> {
    impl(asio::any_io_executor e, resolver_settings s) : ex(e), settings(std::move(s)), timer(e) {}
    ~impl()
    {
        if (channel) ares_destroy(channel);  // pending callbacks get ARES_EDESTRUCTION (posted, not run here)
    }

    asio::any_io_executor ex;
    resolver_settings settings;
    ares_channel channel = nullptr;
    asio::steady_timer timer;
    std::unordered_map<int, std::shared_ptr<fd_watch>> watches;
    std::map<std::string, cache_entry<mx_answer>> mx_cache;
    std::map<std::string, cache_entry<address_answer>> addr_cache;

    // sock_state - c-ares tells us which sockets to watch; (fd, 0, 0) means it is closing fd.
    static void sock_state(void* data, ares_socket_t fd, int readable, int writable)
    {
        auto* self = static_cast<impl*>(data);
        auto it = self->watches.find(fd);
        if (!readable && !writable) {
            if (it == self->watches.end()) return;
            it->second->closed = true;
            it->second->sd.release();  // c-ares owns the fd and closes it itself
            self->watches.erase(it);
            return;
        }
        if (it == self->watches.end()) it = self->watches.emplace(fd, std::make_shared<fd_watch>(self->ex, fd)).first;
        it->second->want_read = readable != 0;
        it->second->want_write = writable != 0;
        self->arm(it->second);
    }

    // arm - keep one read wait and one write wait pending while c-ares wants them.
    void arm(const std::shared_ptr<fd_watch>& w)
    {
        std::weak_ptr<impl> weak = weak_from_this();
        if (w->want_read && !w->read_armed) {
            w->read_armed = true;
            w->sd.async_wait(asio::posix::descriptor_base::wait_read, [weak, w](boost::system::error_code ec) {
                w->read_armed = false;
                auto self = weak.lock();
                if (ec || w->closed || !self) return;
                ares_process_fd(self->channel, w->fd, ARES_SOCKET_BAD);
                self->after_processing(w);
            });
        }
        if (w->want_write && !w->write_armed) {
            w->write_armed = true;
            w->sd.async_wait(asio::posix::descriptor_base::wait_write, [weak, w](boost::system::error_code ec) {
                w->write_armed = false;
                auto self = weak.lock();
                if (ec || w->closed || !self) return;
                ares_process_fd(self->channel, ARES_SOCKET_BAD, w->fd);
                self->after_processing(w);
            });
        }
    }

    // after_processing - re-arm the socket (if still open) and the timeout timer.
    void after_processing(const std::shared_ptr<fd_watch>& w)
    {
        if (!w->closed) arm(w);
        reset_timer();
    }

    // reset_timer - point the timer at c-ares's next timeout, or cancel it when idle.
    void reset_timer()
    {
        timeval tv{};
        if (!ares_timeout(channel, nullptr, &tv)) {
            timer.cancel();
            return;
        }
        timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
        std::weak_ptr<impl> weak = weak_from_this();
        timer.async_wait([weak](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self) return;
            ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // run timeouts, retries
            self->reset_timer();
        });
    }

    // remember - store an answer until expiry; a full cache drops expired entries, then everything.
    template <class Answer>
    void remember(std::map<std::string, cache_entry<Answer>>& cache, const std::string& key, const Answer& a,
                  std::chrono::seconds ttl)
    {
        if (ttl.count() <= 0) return;
        auto now = steady::now();
        if (cache.size() >= settings.max_cache_entries) {
            std::erase_if(cache, [now](const auto& kv) { return kv.second.expiry <= now; });
            if (cache.size() >= settings.max_cache_entries) cache.clear();
        }
        cache[key] = {now + ttl, a};
    }

    // lifetime - a record TTL as a cache time: at least min_cache_time, at most cap.
    std::chrono::seconds lifetime(std::chrono::seconds ttl, std::chrono::seconds cap) const
    {
        const auto secs = static_cast<std::uint32_t>(std::clamp<std::int64_t>(ttl.count(), 0, 0x7fffffff));
        return std::chrono::seconds(clamp_ttl(secs, static_cast<std::uint32_t>(settings.min_cache_time.count()),
                                              static_cast<std::uint32_t>(cap.count())));
    }

    // recall - a cached, unexpired answer.
    template <class Answer>
    static const Answer* recall(std::map<std::string, cache_entry<Answer>>& cache, const std::string& key)
    {
        auto it = cache.find(key);
        if (it == cache.end()) return nullptr;
        if (it->second.expiry <= steady::now()) {
            cache.erase(it);
            return nullptr;
        }
        return &it->second.answer;
    }

    // hook_cancel - on cancellation complete at once with operation_canceled; c-ares runs on.
    template <class Answer>
    static void hook_cancel(const std::shared_ptr<pending_query<Answer>>& q)
    {
        auto slot = asio::get_associated_cancellation_slot(q->handler);
        if (!slot.is_connected()) return;
        std::weak_ptr<pending_query<Answer>> weak = q;
        slot.assign([weak](asio::cancellation_type) {
            auto p = weak.lock();
            if (!p || p->done) return;
            p->done = true;  // do not clear the slot from inside its own handler
            Answer a;
            a.ec = aborted();
            asio::post(p->ex, asio::append(std::move(p->handler), std::move(a)));
        });
    }

    static void on_mx(void* arg, int status, int, unsigned char* abuf, int alen)
    {
        std::unique_ptr<std::shared_ptr<pending_query<mx_answer>>> q(
            static_cast<std::shared_ptr<pending_query<mx_answer>>*>(arg));
        mx_answer a;
        // c-ares hands over the raw message for NXDOMAIN and NODATA too (their SOA is in it).
        if (abuf && alen > 0 && (status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA)) {
            const auto t = read_answer_ttls({abuf, static_cast<std::size_t>(alen)}, rr_type_mx);
            std::optional<std::uint32_t> ttl;
            if (t) ttl = status == ARES_SUCCESS ? t->answer : t->negative;
            if (ttl) a.ttl = std::chrono::seconds(*ttl);
        }
        if (status == ARES_SUCCESS) {
            ares_mx_reply* list = nullptr;
            status = ares_parse_mx_reply(abuf, alen, &list);
            for (auto* p = list; p; p = p->next) a.records.push_back({p->priority, p->host ? p->host : ""});
            if (list) ares_free_data(list);
        }
        a.ec = make_ares_error(status);
        (*q)->complete(std::move(a));
    }

    static void on_addresses(void* arg, int status, int, ares_addrinfo* res)
    {
        std::unique_ptr<std::shared_ptr<pending_query<address_answer>>> q(
            static_cast<std::shared_ptr<pending_query<address_answer>>*>(arg));
        address_answer a;
        a.ec = make_ares_error(status);
        int min_ttl = -1;
        for (auto* n = res ? res->nodes : nullptr; n; n = n->ai_next) {
            if (n->ai_family == AF_INET6) {
                const auto* sa = reinterpret_cast<const sockaddr_in6*>(n->ai_addr);
                asio::ip::address_v6::bytes_type b;
                std::copy(std::begin(sa->sin6_addr.s6_addr), std::end(sa->sin6_addr.s6_addr), b.begin());
                a.addresses.push_back(asio::ip::address_v6(b));
            } else if (n->ai_family == AF_INET) {
                const auto* sa = reinterpret_cast<const sockaddr_in*>(n->ai_addr);
                a.addresses.push_back(asio::ip::address_v4(ntohl(sa->sin_addr.s_addr)));
            } else {
                continue;
            }
            if (min_ttl < 0 || n->ai_ttl < min_ttl) min_ttl = n->ai_ttl;
        }
        if (res) ares_freeaddrinfo(res);
        if (!a.ec && a.addresses.empty()) a.ec = make_ares_error(ARES_ENODATA);
        a.ttl = std::chrono::seconds(min_ttl < 0 ? 0 : min_ttl);
        (*q)->complete(std::move(a));
    }
};

resolver::resolver(asio::any_io_executor ex, resolver_settings s) : impl_(std::make_shared<impl>(ex, std::move(s)))
{
    init_library();
    ares_options opts{};
    opts.sock_state_cb = &impl::sock_state;
    opts.sock_state_cb_data = impl_.get();
    opts.timeout = static_cast<int>(impl_->settings.timeout.count());
    opts.tries = impl_->settings.tries;
    opts.flags = ARES_FLAG_NOSEARCH;
    char lookups[] = "b";  // DNS only: never /etc/hosts for mail routing (Postfix smtp_host_lookup=dns)
    opts.lookups = lookups;
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_LOOKUPS;
    if (int st = ares_init_options(&impl_->channel, &opts, mask); st != ARES_SUCCESS)
        throw std::runtime_error(std::string("c-ares channel: ") + ares_strerror(st));
    if (!impl_->settings.servers.empty()) {
        auto csv = join_servers(impl_->settings.servers);
        if (int st = ares_set_servers_ports_csv(impl_->channel, csv.c_str()); st != ARES_SUCCESS)
            throw std::runtime_error("dns_servers '" + csv + "': " + ares_strerror(st));
    }
}

resolver::~resolver() = default;

void resolver::start_mx(std::string domain, asio::any_completion_handler<mx_signature> h)
{
    auto q = std::make_shared<pending_query<mx_answer>>(std::move(h), impl_->ex);
    impl::hook_cancel(q);
    auto* arg = new std::shared_ptr<pending_query<mx_answer>>(q);
    ares_query(impl_->channel, domain.c_str(), ns_c_in, ns_t_mx, &impl::on_mx, arg);
    impl_->reset_timer();
}

void resolver::start_addresses(std::string host, asio::any_completion_handler<address_signature> h)
{
    auto q = std::make_shared<pending_query<address_answer>>(std::move(h), impl_->ex);
    impl::hook_cancel(q);
    auto* arg = new std::shared_ptr<pending_query<address_answer>>(q);
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = ARES_AI_NOSORT;  // the default RFC 6724 sort connects to every address
    ares_getaddrinfo(impl_->channel, host.c_str(), nullptr, &hints, &impl::on_addresses, arg);
    impl_->reset_timer();
}

asio::awaitable<mx_answer> resolver::mx(std::string domain)
{
    std::string key = normalise_host(domain);
    if (const auto* hit = impl::recall(impl_->mx_cache, key)) co_return *hit;
    auto a = co_await async_mx(key, asio::use_awaitable);
    auto& st = impl_->settings;
    // Only answers are cached: a temporary failure is asked again next time. An answer whose TTL
    // could not be read is kept for the shortest time; a negative one without SOA not at all.
    if (!a.ec)
        impl_->remember(impl_->mx_cache, key, a, impl_->lifetime(a.ttl.value_or(st.min_cache_time), st.max_cache_time));
    else if (is_permanent(a.ec) && a.ttl)
        impl_->remember(impl_->mx_cache, key, a, impl_->lifetime(*a.ttl, st.negative_cache_time));
    co_return a;
}

asio::awaitable<address_answer> resolver::addresses(std::string host)
{
    std::string key = normalise_host(host);
    if (const auto* hit = impl::recall(impl_->addr_cache, key)) co_return *hit;
    auto a = co_await async_addresses(key, asio::use_awaitable);
    auto& st = impl_->settings;
    if (!a.ec)
        impl_->remember(impl_->addr_cache, key, a, impl_->lifetime(a.ttl, st.max_cache_time));
    else if (is_permanent(a.ec))
        impl_->remember(impl_->addr_cache, key, a, st.address_negative_cache_time);
    co_return a;
}

}  // namespace postrider::dns
