// tests/fuzz/fuzz_sendmail_input.cpp: libFuzzer target for sendmail's stdin reader and
// header scanner (sendmail/input, sendmail/headers).
//
// Trust: stdin is a local user's (a cron job's output, a user agent's message).
// Input: byte 0 picks -i and the split point, the rest is stdin.
// Checks: the reader's result does not depend on how the bytes were split into
//         read()s; accepted input is CRLF lines without NUL, none over 998 octets;
//         after -t scanning and completion the message still is, has Date:,
//         Message-ID: and From:, and no Bcc: field survives.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sendmail/headers.hpp"
#include "sendmail/input.hpp"

using namespace postrider;

namespace {

struct read_result {
    sendmail::input_error error = sendmail::input_error::none;
    std::string data;
};

// read_split - feed in two pieces at split, stopping where the reader says so.
read_result read_split(std::string_view in, std::size_t split, bool dot_ends)
{
    sendmail::input_reader r(dot_ends, 1u << 20);
    if (r.feed(in.substr(0, split))) r.feed(in.substr(split));
    r.finish();
    return {r.error(), r.error() == sendmail::input_error::none ? r.take() : std::string{}};
}

// has_field - a field of that name in the header section.
bool has_field(const sendmail::split_message& m, std::string_view name)
{
    for (const auto& f : m.fields)
        if (sendmail::iequals(f.name, name)) return true;
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const bool dot_ends = data[0] & 1;
    const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t split = in.empty() ? 0 : (data[0] >> 1) % (in.size() + 1);
    auto whole = read_split(in, in.size(), dot_ends);
    auto parts = read_split(in, split, dot_ends);
    fuzz::require(whole.error == parts.error && whole.data == parts.data, "split independence");
    if (whole.error != sendmail::input_error::none) return 0;
    const auto& d = whole.data;
    fuzz::require(fuzz::crlf_clean(d) && !d.empty(), "CRLF lines");
    fuzz::require(d.find('\0') == std::string::npos, "no NUL");
    for (std::size_t start = 0; start < d.size();) {
        const auto end = d.find("\r\n", start);
        fuzz::require(end - start <= sendmail::max_line_octets, "line length");
        start = end + 2;
    }
    auto split_msg = sendmail::split_headers(d);
    for (const auto& a : sendmail::header_recipients(split_msg))
        fuzz::require(!a.empty() && a.find_first_of("\r\n") == std::string::npos, "recipient candidates are one line");
    const sendmail::completion c{"joe", "Joe \"Q\" User", "example.org", "1K120R34C8PAGYR6", 1736240703};
    const auto done = sendmail::complete(split_msg, c);
    fuzz::require(fuzz::crlf_clean(done), "completed message is CRLF lines");
    auto again = sendmail::split_headers(done);
    fuzz::require(has_field(again, "Date") && has_field(again, "Message-ID") && has_field(again, "From"),
                  "Date, Message-ID and From present");
    fuzz::require(!has_field(again, "Bcc") && !has_field(again, "Resent-Bcc"), "no Bcc");
    return 0;
}
