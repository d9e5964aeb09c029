// smtp/message_sink.hpp: size-bounded accumulator for a message's octets.
//
// Owns: the message buffer of one transaction and its size limit.
// Trust: receives decoded peer octets (UNTRUSTED content). Never holds more
//        than the limit: once the limit is passed the buffer is released and
//        only the count goes on, so the engine can keep reading to the end of
//        the data and then answer 552 (RFC 5321 4.5.3.1.10, RFC 1870 6.3).
// Standards: RFC 1870 (SIZE), RFC 5321 4.5.3.1.10.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace postrider::smtp {

class message_sink {
public:
    // reset - start an empty message with this many octets allowed.
    void reset(std::uint64_t limit)
    {
        data_.clear();
        size_ = 0;
        limit_ = limit;
        overflow_ = false;
    }
    // append - add octets; past the limit, drop everything and only count.
    void append(std::string_view bytes)
    {
        size_ += bytes.size();
        if (overflow_ || size_ > limit_) {
            if (!overflow_)
                std::string().swap(data_);  // give the memory back now, not at the end
            overflow_ = true;
            return;
        }
        data_.append(bytes);
    }
    // crlf - end a line (the only line terminator ever stored).
    void crlf() { append("\r\n"); }
    // overflow - more than the limit arrived.
    bool overflow() const noexcept { return overflow_; }
    // size - octets appended so far (including any past the limit).
    std::uint64_t size() const noexcept { return size_; }
    // take - the message; leaves the sink empty.
    std::string take()
    {
        std::string out;
        out.swap(data_);
        size_ = 0;
        return out;
    }
    // release - drop the buffer and its memory (transaction aborted).
    void release() { std::string().swap(data_); size_ = 0; overflow_ = false; }

private:
    std::string data_;
    std::uint64_t size_ = 0;
    std::uint64_t limit_ = 0;
    bool overflow_ = false;
};

}  // namespace postrider::smtp
