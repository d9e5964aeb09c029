// smtp/data_decoder.hpp: the DATA body decoder (end-of-data, dot-unstuffing, line ends).
//
// Owns: recognising the end-of-data indicator, removing dot-stuffing, and
//       normalising every line terminator to CRLF.
// Trust: sees raw client bytes (UNTRUSTED). O(1) state, no line buffer: the
//        bytes go straight into a size-bounded message_sink, so neither long
//        lines nor a missing end-of-data can grow memory past the size limit.
// SMTP smuggling defence (CVE-2023-51764 Postfix, CVE-2023-51766 Exim,
// CVE-2023-51765 sendmail): end of data is ONLY "." on a line of its own with
// a real CRLF both before and after it. A bare LF or bare CR is a line break
// for storage (written as CRLF, so the stored message can never be re-read
// differently by a later hop) but can never start or end the indicator: so
// "\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r" ... do not end the data.
// NUL octets are passed through (as Postfix does) and counted for the log.
// Standards: RFC 5321 4.1.1.4 (end of data), 4.5.2 (transparency),
//            2.3.8 (lines end in CRLF).
// See also: chunk_decoder.hpp (BDAT), docs/smtp.md ("Smuggling").
#pragma once

#include <cstddef>
#include <string_view>

#include "smtp/message_sink.hpp"

namespace postrider::smtp {

class data_decoder {
public:
    // start - a new body; crlf_before: the DATA command line ended with a real CRLF.
    void start(bool crlf_before) noexcept;
    // consume - decode from the front of in into sink; true when end-of-data was
    //           consumed (the bytes after it stay in in).
    bool consume(std::string_view& in, message_sink& sink);
    // bare_line_ends - bare CR or LF octets normalised so far (smuggling attempts show here).
    std::size_t bare_line_ends() const noexcept { return bare_; }
    // nul_octets - NUL octets passed through so far.
    std::size_t nul_octets() const noexcept { return nuls_; }

private:
    bool end_line(bool real_crlf, message_sink& sink);
    void copy_run(std::string_view& in, message_sink& sink);

    bool line_start_ = true;  // next octet is the first of a line
    bool prev_crlf_ = true;   // the previous line ended with a real CRLF
    bool dot_only_ = false;   // this line so far is just the (removed) leading dot
    bool cr_pending_ = false; // a CR was seen; the next octet decides CRLF or bare CR
    std::size_t bare_ = 0;
    std::size_t nuls_ = 0;
};

}  // namespace postrider::smtp
