// smtp/chunk_decoder.cpp: BDAT chunk normalisation (see chunk_decoder.hpp).
#include "smtp/chunk_decoder.hpp"

#include <algorithm>

namespace postrider::smtp {

void chunk_decoder::consume(std::string_view bytes, message_sink& sink)
{
    while (!bytes.empty()) {
        const char c = bytes.front();
        if (cr_pending_) {
            cr_pending_ = false;
            line_end(c != '\n', sink);
            if (c == '\n')
                bytes.remove_prefix(1);
            continue;
        }
        if (c == '\r' || c == '\n') {
            bytes.remove_prefix(1);
            if (c == '\r')
                cr_pending_ = true;
            else
                line_end(true, sink);
            continue;
        }
        const auto n = std::min(bytes.find_first_of("\r\n"), bytes.size());
        sink.append(bytes.substr(0, n));
        bytes.remove_prefix(n);
        line_start_ = false;
    }
}

void chunk_decoder::finish(message_sink& sink)
{
    if (cr_pending_) {
        cr_pending_ = false;
        line_end(true, sink);
    }
    // The invariant: the last line ends CRLF too (RFC 5321 2.3.8).
    if (!line_start_)
        line_end(false, sink);
}

// line_end - store CRLF for one terminator; count it if it was bare.
void chunk_decoder::line_end(bool bare, message_sink& sink)
{
    if (bare)
        ++bare_;
    sink.crlf();
    line_start_ = true;
}

}  // namespace postrider::smtp
