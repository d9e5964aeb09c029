// smtp/chunk_decoder.hpp: BDAT chunk content normalisation.
//
// Owns: turning the octets of BDAT chunks into stored message octets.
// Trust: sees raw client bytes (UNTRUSTED). O(1) state; output goes to the
//        size-bounded message_sink. The engine counts the chunk length; this
//        class never decides where a chunk ends.
// Policy: the stored message has one invariant whatever the transfer mode:
//         every line ends CRLF, no bare CR or LF. So, as for DATA, bare CR and
//         bare LF are written as CRLF (a CR at the end of one chunk pairs with
//         an LF at the start of the next), and finish() terminates a last line
//         that lacks CRLF. No dot handling: BDAT has no transparency (RFC 3030 2).
// Standards: RFC 3030 2-4 (CHUNKING), RFC 5321 2.3.8.
// See also: data_decoder.hpp, docs/smtp.md.
#pragma once

#include <cstddef>
#include <string_view>

#include "smtp/message_sink.hpp"

namespace postrider::smtp {

class chunk_decoder {
public:
    // start - a new message.
    void start() noexcept { *this = chunk_decoder{}; }
    // consume - normalise these chunk octets into sink.
    void consume(std::string_view bytes, message_sink& sink);
    // finish - the LAST chunk ended: flush a pending CR and end the last line.
    void finish(message_sink& sink);
    // bare_line_ends - bare CR/LF octets normalised so far.
    std::size_t bare_line_ends() const noexcept { return bare_; }

private:
    void line_end(bool bare, message_sink& sink);

    bool cr_pending_ = false;
    bool line_start_ = true;
    std::size_t bare_ = 0;
};

}  // namespace postrider::smtp
