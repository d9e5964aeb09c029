// smtp/line_reader.hpp: incremental line framing for SMTP command lines.
//
// Owns: splitting a byte stream into command lines, and the per-line limit.
// Trust: sees raw client bytes (UNTRUSTED). Never buffers more than
//        max_octets - 1 octets: a longer line is discarded up to its LF and
//        reported as too_long, so a peer that never sends LF costs nothing.
// Policy: a command line ends at LF. A CR right before the LF is dropped (the
//         normal CRLF). A bare LF also ends the line (lenient, as Postfix has
//         always been for commands) and is flagged so the engine can log it.
//         A bare CR elsewhere stays in the text; the command parser then
//         rejects the line. NUL stays in the text; the engine rejects it.
//         End of DATA never uses this reader (see data_decoder.hpp), so this
//         leniency cannot be used for SMTP smuggling.
// Standards: RFC 5321 2.3.8 (lines end CRLF), 4.5.3.1.4 (512 octets incl. CRLF).
// See also: data_decoder.hpp, chunk_decoder.hpp, docs/smtp.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postrider::smtp {

struct framed_line {
    std::string_view text;  // the line without CR/LF; valid until the next next() call
    bool too_long = false;  // over the limit: text is empty, the line was discarded
    bool bare_lf = false;   // ended by LF without a CR before it
};

class line_reader {
public:
    // line_reader - max_octets is the longest accepted line including CRLF.
    explicit line_reader(std::size_t max_octets) : max_(max_octets) {}

    // next - consume bytes from the front of in; a line when one completes,
    //        nullopt when in is used up first (the partial line is kept).
    std::optional<framed_line> next(std::string_view& in);

    // buffered - octets of the partial line held (unprocessed input).
    std::size_t buffered() const noexcept { return delivered_ ? 0 : buf_.size(); }

    // reset - forget any partial line.
    void reset() noexcept;

private:
    std::optional<framed_line> finish(std::string_view tail);

    std::size_t max_;
    std::string buf_;
    bool discarding_ = false;  // inside an over-long line, dropping octets until LF
    bool delivered_ = false;   // buf_ holds the line returned last time
};

}  // namespace postrider::smtp
