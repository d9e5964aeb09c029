// sendmail/input.cpp: PURE stdin framing and checks (see input.hpp).
#include "sendmail/input.hpp"

namespace postrider::sendmail {

std::string describe(input_error e, std::size_t line)
{
    const std::string at = "line " + std::to_string(line) + ": ";
    switch (e) {
    case input_error::none: return "no error";
    case input_error::empty: return "empty message on standard input: nothing was sent";
    case input_error::nul_byte: return at + "the message contains a NUL byte; encode binary data (base64)";
    case input_error::bare_cr:
        return at + "a carriage return not followed by a line feed; lines must end in LF or CRLF";
    case input_error::line_too_long:
        return at + "longer than 998 octets (RFC 5322 2.1.1); encode the text (quoted-printable or base64)";
    case input_error::too_large: return "the message is larger than message_size_limit";
    }
    return "unknown error";
}

input_reader::input_reader(bool dot_ends_input, std::uint64_t max_size)
    : dot_ends_(dot_ends_input), max_size_(max_size)
{
}

bool input_reader::feed(std::string_view bytes)
{
    for (char c : bytes) {
        if (done_ || error_ != input_error::none) return false;
        if (pending_cr_) {
            pending_cr_ = false;
            if (c != '\n') {
                fail(input_error::bare_cr);
                return false;
            }
            end_line();
            continue;
        }
        if (c == '\r') pending_cr_ = true;
        else if (c == '\n') end_line();
        else if (c == '\0') fail(input_error::nul_byte);
        else {
            if (static_cast<unsigned char>(c) >= 0x80) eight_bit_ = true;
            if (line_.size() == max_line_octets) fail(input_error::line_too_long);
            else line_ += c;
        }
    }
    return !done_ && error_ == input_error::none;
}

void input_reader::end_line()
{
    // sendmail(8): without -i a line holding only "." ends the message and is not part of it.
    if (dot_ends_ && line_ == ".") {
        done_ = true;
        return;
    }
    out_ += line_;
    out_ += "\r\n";
    line_.clear();
    ++lines_;
    if (max_size_ != 0 && out_.size() > max_size_) fail(input_error::too_large);
}

void input_reader::finish()
{
    if (error_ != input_error::none) return;
    if (!done_) {
        if (pending_cr_) {  // a lone CR as the very last byte
            fail(input_error::bare_cr);
            return;
        }
        if (!line_.empty()) end_line();  // fix-up: the last line had no newline
    }
    if (out_.empty()) fail(input_error::empty);  // nothing, or only the end dot
}

}  // namespace postrider::sendmail
