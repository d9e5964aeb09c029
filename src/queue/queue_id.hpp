// queue/queue_id.hpp: queue ids: unique across restarts, filename-safe, sortable by time.
//
// Owns: id generation and validation.
// Trust: is_valid_queue_id() is the gate for every name read from the queue
//        directories (UNTRUSTED at load) before it is used to build a path.
// Format: 11 chars of microseconds since the epoch + 5 chars of randomness
//   (with an in-process monotonic bump), all in Crockford base 32
//   ("0-9A-Z" minus I L O U), which sorts in ASCII order by arrival. Ids do not
//   depend on inode numbers, so a restored or moved queue keeps working.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

namespace postrider::queue {

inline constexpr std::size_t queue_id_length = 16;

// format_queue_id - PURE: the id for a time (unix us) and 25 random bits.
std::string format_queue_id(std::uint64_t unix_us, std::uint32_t random25);
// is_valid_queue_id - exactly queue_id_length Crockford base-32 characters.
bool is_valid_queue_id(std::string_view s) noexcept;

class queue_id_generator {
public:
    queue_id_generator();
    // next - a fresh id; thread-safe, no I/O. The time part strictly increases
    //        within a process, so two ids of one process never collide.
    std::string next();

private:
    std::mutex mutex_;
    std::uint64_t last_us_ = 0;
    std::mt19937 rng_;
};

}  // namespace postrider::queue
