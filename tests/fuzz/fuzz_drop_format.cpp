// tests/fuzz/fuzz_drop_format.cpp: libFuzzer target for the maildrop record decoder and
// the validation of a decoded record (pickup/drop_format, pickup/validate).
//
// Trust: the input plays any local user (through postrider-postdrop) or any process
//        that can write into the maildrop: docs/security.md rule 2.
// Input: tried twice: as a whole file, and as a payload given a correct frame (magic,
//        version 2, length, CRC), since a fuzzer rarely guesses a CRC and the
//        payload parser and validation lie behind it.
// Checks: decoding never crashes; a decoded version-2 record re-encodes to exactly
//         the input (one encoding per message: nothing is skipped or guessed);
//         a validated message has a trace header, CRLF-clean trace and content,
//         allowed VERP delimiters and stays within the limits it was given.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/verp.hpp"
#include "fuzz_check.hpp"
#include "pickup/drop_format.hpp"
#include "pickup/validate.hpp"
#include "queue/record.hpp"

using namespace postrider;

namespace {

// framed - a version-2 frame with a correct length and CRC around payload.
std::string framed(std::string_view payload)
{
    std::string out = "PRD1";
    out += '\x02';
    out += '\x00';
    for (int i = 0; i < 4; ++i) out += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
    out += payload;
    const auto crc = queue::crc32(out);
    for (int i = 0; i < 4; ++i) out += static_cast<char>((crc >> (8 * i)) & 0xff);
    return out;
}

void check_file(std::string_view bytes)
{
    auto d = pickup::decode_drop(bytes);
    fuzz::require(d.message.has_value() != !d.error.empty(), "exactly one of message and error");
    if (!d.message) return;
    const bool v2 = bytes.size() >= 6 && bytes[4] == 2 && bytes[5] == 0;
    if (v2) fuzz::require(pickup::encode_drop(*d.message) == bytes, "v2 re-encodes to the same bytes");
    const pickup::drop_limits limits{4096, 8, "+="};
    const pickup::drop_origin origin{"mx.test", "1K120R34C8PAGYR6", 1000, 1736240703};
    auto v = pickup::validate_drop(*d.message, limits, origin);
    fuzz::require(v.message.has_value() != !v.error.empty(), "validate: exactly one of message and error");
    if (!v.message) return;
    const auto& m = *v.message;
    fuzz::require(m.trace.rfind("Received: ", 0) == 0, "a trace header");
    fuzz::require(fuzz::crlf_clean(m.trace) && fuzz::crlf_clean(m.content), "trace and content are CRLF lines");
    fuzz::require(m.content.find('\0') == std::string::npos, "no NUL");
    fuzz::require(!m.recipients.empty() && m.recipients.size() <= limits.max_recipients, "recipient limit");
    fuzz::require(d.message->content.size() <= limits.max_size, "size limit");
    fuzz::require(m.verp_delimiters.empty() || core::valid_verp_delimiters(m.verp_delimiters), "VERP delimiters");
    fuzz::require(fuzz::no_controls(m.sender), "sender without controls");
    for (const auto& r : m.recipients) fuzz::require(fuzz::no_controls(r.address), "recipient without controls");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    check_file(bytes);
    check_file(framed(bytes));
    return 0;
}
