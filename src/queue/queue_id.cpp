// queue/queue_id.cpp: queue id generation (see queue_id.hpp for the format).
#include "queue/queue_id.hpp"

#include <chrono>

namespace postrider::queue {
namespace {

constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// in_alphabet - whether c is a Crockford base-32 digit.
bool in_alphabet(char c)
{
    for (std::size_t i = 0; i < 32; ++i)
        if (alphabet[i] == c) return true;
    return false;
}

}  // namespace

std::string format_queue_id(std::uint64_t unix_us, std::uint32_t random25)
{
    std::string id(queue_id_length, '0');
    for (int i = 10; i >= 0; --i, unix_us >>= 5) id[static_cast<std::size_t>(i)] = alphabet[unix_us & 31];
    for (int i = 15; i >= 11; --i, random25 >>= 5) id[static_cast<std::size_t>(i)] = alphabet[random25 & 31];
    return id;
}

bool is_valid_queue_id(std::string_view s) noexcept
{
    if (s.size() != queue_id_length) return false;
    for (char c : s)
        if (!in_alphabet(c)) return false;
    return true;
}

queue_id_generator::queue_id_generator() : rng_(std::random_device{}()) {}

std::string queue_id_generator::next()
{
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    std::lock_guard lock(mutex_);
    auto us = static_cast<std::uint64_t>(now);
    if (us <= last_us_) us = last_us_ + 1;  // clock step back or same microsecond
    last_us_ = us;
    return format_queue_id(us, static_cast<std::uint32_t>(rng_()) & 0x1ffffff);
}

}  // namespace postrider::queue
