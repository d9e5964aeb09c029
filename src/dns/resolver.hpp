// dns/resolver.hpp: asynchronous MX and A/AAAA lookups with c-ares on the caller's io_context.
//
// Owns: one c-ares channel, its sockets (as Asio descriptors, released, never
//       closed by us) and its timeout timer; a small TTL-bounded answer cache.
// Trust: answers are UNTRUSTED network data decoded by c-ares; MX host names are
//        re-checked in dns/mx.cpp before anyone connects to them; addresses are
//        returned as typed ip::address values.
// Threads: all members and lookups run on the executor given to the constructor
//        (single-threaded io_context, or a strand). Completion handlers are always
//        posted (never invoked inside c-ares), so callers see no reentrancy.
// Cancellation: every lookup honours its handler's cancellation slot (the
//        c-ares query keeps running; its late answer is ignored), so
//        `co_await (lookup || timer)` returns at the deadline.
// Standards: RFC 5321 5.1 (MX, implicit MX via A/AAAA), RFC 7505 (null MX), RFC 2181 (TTLs),
//            RFC 2308 (negative caching).
// See also: docs/remote-delivery.md ("Resolver"), TOOLCHAIN.md section 4.
#pragma once

#include "dns/ares_error.hpp"
#include "dns/mx.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace postrider::dns {

struct resolver_settings {
    std::vector<std::string> servers;                 // "ip:port" / "[v6]:port"; empty: /etc/resolv.conf
    std::chrono::milliseconds timeout{5000};           // per try (c-ares ARES_OPT_TIMEOUTMS)
    int tries = 2;                                     // per server
    // Answers are cached for their TTL clamped to [min_cache_time, max_cache_time]; negative
    // ones (NXDOMAIN/NODATA) for the RFC 2308 SOA TTL within [min_cache_time, negative_cache_time].
    std::chrono::seconds min_cache_time{5};            // TTL 0 would mean one query per batch in a fan-out
    std::chrono::seconds max_cache_time{3600};         // a huge (or forged) TTL must not pin a route for days
    std::chrono::seconds negative_cache_time{3600};    // RFC 2308 7: negative answers at most 1-3 hours
    std::chrono::seconds address_negative_cache_time{60};  // ares_getaddrinfo shows no SOA: a fixed time
    std::size_t max_cache_entries = 10000;
};

struct mx_answer {
    std::error_code ec;               // empty, an ARES_* status (ENODATA: no MX, use implicit MX), or aborted
    std::vector<mx_record> records;   // raw records; order them with plan_mx()
    // From the raw answer (answer_ttl.hpp): the smallest MX/CNAME TTL, or for NXDOMAIN/NODATA the
    // RFC 2308 SOA TTL; empty when the message had none or could not be read.
    std::optional<std::chrono::seconds> ttl;
};

struct address_answer {
    std::error_code ec;
    std::vector<boost::asio::ip::address> addresses;  // IPv6 and IPv4, in the server's order
    std::chrono::seconds ttl{0};                        // smallest TTL of the records (cache bound)
};

class resolver {
public:
    using mx_signature = void(mx_answer);
    using address_signature = void(address_answer);

    // resolver - init c-ares (ARES_FLAG_NOSEARCH, DNS only, no /etc/hosts). Throws std::runtime_error.
    resolver(boost::asio::any_io_executor ex, resolver_settings s);
    ~resolver();
    resolver(const resolver&) = delete;
    resolver& operator=(const resolver&) = delete;

    // async_mx - the MX records of domain (uncached).
    template <class Token>
    auto async_mx(std::string domain, Token&& token)
    {
        return boost::asio::async_initiate<Token, mx_signature>(
            [this](auto h, std::string d) {
                start_mx(std::move(d), boost::asio::any_completion_handler<mx_signature>(std::move(h)));
            },
            token, std::move(domain));
    }
    // async_addresses - the A and AAAA records of host, CNAMEs followed (uncached).
    template <class Token>
    auto async_addresses(std::string host, Token&& token)
    {
        return boost::asio::async_initiate<Token, address_signature>(
            [this](auto h, std::string n) {
                start_addresses(std::move(n), boost::asio::any_completion_handler<address_signature>(std::move(h)));
            },
            token, std::move(host));
    }

    // mx - cached MX lookup: answers kept for their TTL (clamped), negative ones for their SOA TTL
    //      (clamped; not cached without an SOA, RFC 2308 5); temporary failures not cached.
    boost::asio::awaitable<mx_answer> mx(std::string domain);
    // addresses - cached address lookup (kept for the smallest record TTL, clamped).
    boost::asio::awaitable<address_answer> addresses(std::string host);

private:
    struct impl;
    // start_mx - begin an MX query; the handler is posted exactly once.
    void start_mx(std::string domain, boost::asio::any_completion_handler<mx_signature> h);
    // start_addresses - begin an ares_getaddrinfo; the handler is posted exactly once.
    void start_addresses(std::string host, boost::asio::any_completion_handler<address_signature> h);

    std::shared_ptr<impl> impl_;
};

}  // namespace postrider::dns
