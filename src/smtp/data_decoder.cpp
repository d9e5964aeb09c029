// smtp/data_decoder.cpp: DATA body decoding (see data_decoder.hpp).
#include "smtp/data_decoder.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace postrider::smtp {

namespace {

// run_end - the offset of the first CR or LF in p[0, size), or size; adds the NULs before it.
//           Eight octets per step: a word with no CR, LF or NUL in it is skipped whole, and only
//           a word that holds one is looked at octet by octet (one test per octet was an eighth
//           of the daemon's user-space instructions per message in bench S1). Linear in size.
std::size_t run_end(const char* p, std::size_t size, std::size_t& nuls)
{
    constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    constexpr auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
    std::size_t n = 0;
    while (n < size) {
        for (; n + 8 <= size; n += 8) {
            std::uint64_t w;
            std::memcpy(&w, p + n, 8);
            if (has_zero(w) | has_zero(w ^ (ones * '\r')) | has_zero(w ^ (ones * '\n'))) break;
        }
        const std::size_t end = std::min(size, n + 8);
        for (; n < end; ++n) {
            const char c = p[n];
            if (c == '\r' || c == '\n') return n;
            nuls += c == '\0';
        }
    }
    return n;
}

}  // namespace

void data_decoder::start(bool crlf_before) noexcept
{
    *this = data_decoder{};
    prev_crlf_ = crlf_before;
}

bool data_decoder::consume(std::string_view& in, message_sink& sink)
{
    while (!in.empty()) {
        const char c = in.front();
        if (cr_pending_) {
            cr_pending_ = false;
            if (c == '\n') {
                in.remove_prefix(1);
                if (end_line(true, sink))
                    return true;
                continue;
            }
            end_line(false, sink);  // bare CR: a line break, but never part of the indicator
            continue;               // c starts the next line
        }
        if (c == '\r' || c == '\n') {
            in.remove_prefix(1);
            if (c == '\r')
                cr_pending_ = true;
            else
                end_line(false, sink);  // bare LF
            continue;
        }
        if (line_start_) {
            line_start_ = false;
            // RFC 5321 4.5.2: a leading dot is removed; it may be the indicator's dot.
            if (c == '.') {
                dot_only_ = true;
                in.remove_prefix(1);
                continue;
            }
        }
        dot_only_ = false;
        copy_run(in, sink);
    }
    return false;
}

// end_line - a line terminator arrived; true if it completes CRLF "." CRLF.
bool data_decoder::end_line(bool real_crlf, message_sink& sink)
{
    // RFC 5321 4.1.1.4: the indicator is CRLF "." CRLF, with real CRLFs only.
    if (real_crlf && dot_only_ && prev_crlf_)
        return true;
    if (!real_crlf)
        ++bare_;
    // A lone "." that is not the indicator (a bare CR/LF on either side) was
    // never stuffed by the client: keep it as content rather than drop it.
    if (dot_only_)
        sink.append(".");
    sink.crlf();
    prev_crlf_ = real_crlf;
    line_start_ = true;
    dot_only_ = false;
    return false;
}

// copy_run - bulk-copy octets up to the next CR or LF (the common case).
void data_decoder::copy_run(std::string_view& in, message_sink& sink)
{
    std::size_t nuls = 0;
    const std::size_t n = run_end(in.data(), in.size(), nuls);
    nuls_ += nuls;
    sink.append(in.substr(0, n));
    in.remove_prefix(n);
}

}  // namespace postrider::smtp
