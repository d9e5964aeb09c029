// tests/fuzz/fuzz_segment.cpp: libFuzzer target for the journal segment reader (queue/segment).
//
// Trust: the input plays a segment file read back after a crash, damaged or planted.
// Input: scanned as a whole segment (as the last one and as an older one), and framed as
//        one record of each type with a correct length and CRC (a fuzzer rarely guesses
//        a CRC, and the payload parsers lie behind it).
// Checks: scanning never crashes; records are in order inside the valid prefix; every
//         record re-encodes to exactly its bytes (nothing skipped or guessed); a message's
//         content lies inside the input; clean means every byte was used.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "queue/record.hpp"
#include "queue/segment.hpp"

using namespace postrider;

namespace {

// reencode - the bytes of one scanned record, encoded again.
std::string reencode(const queue::segment_entry& e, std::string_view bytes)
{
    switch (e.type) {
    case queue::segment_record::message: {
        std::string_view content = bytes.substr(e.content_offset, e.env.message_size);
        auto f = queue::frame_message(e.env, {}, content);
        return f.prefix + std::string(content) + f.suffix;
    }
    case queue::segment_record::outcome: return queue::encode_journal_outcome(e.queue_id, e.result);
    case queue::segment_record::done: return queue::encode_done(e.queue_id);
    }
    return {};
}

void check(std::string_view bytes, bool last)
{
    auto s = queue::scan_segment(bytes, last);
    fuzz::require(s.valid_bytes <= bytes.size(), "valid prefix inside the input");
    fuzz::require((s.end == queue::segment_end::clean) == (s.valid_bytes == bytes.size()), "clean iff all used");
    std::uint64_t at = 0;
    for (const auto& e : s.entries) {
        fuzz::require(e.offset == at, "records back to back");
        if (e.type == queue::segment_record::message)
            fuzz::require(e.content_offset + e.env.message_size <= s.valid_bytes, "content inside the input");
        std::string again = reencode(e, bytes);
        fuzz::require(bytes.substr(e.offset, again.size()) == again, "a record re-encodes to its bytes");
        at += again.size();
    }
    fuzz::require(at == s.valid_bytes, "records cover the valid prefix");
    if (last) fuzz::require(s.end != queue::segment_end::corrupt, "the last segment is never corrupt, only torn");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    check(bytes, true);
    check(bytes, false);
    for (std::uint8_t type : {4, 5, 6}) {
        const std::string rec = queue::frame_record(type, bytes);
        check(rec + rec, false);
    }
    return 0;
}
