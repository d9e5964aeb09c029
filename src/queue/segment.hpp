// queue/segment.hpp: PURE codec for write-ahead journal segments (queue_dir/journal/SEQ).
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the records of a segment and how a segment read back is split and judged.
// Trust: segments are read at start-up after a crash: UNTRUSTED. Every length is
//        bounds-checked, every record CRC-checked (and a message's content against
//        its envelope's length and CRC), every failure is a value, never a crash.
// Format (docs/queue-format.md "Journal segments"): the record framing of record.hpp
//     u8 type | u32le payload length | payload | u32le crc32(type, length, payload)
//   message (4): str queue_id | str envelope (v3 payload) | u64 n | n octets (head, body)
//   outcome (5): str queue_id | outcome payload (as env/ID's)
//   done    (6): str queue_id (all recipients final and reports committed, or migrated)
//   A zero type octet followed only by zeros is the end of the log.
// See also: journal.hpp (the I/O), record.hpp.
#pragma once

#include "queue/record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::queue {

enum class segment_record : std::uint8_t { message = 4, outcome = 5, done = 6 };

// Largest message record: a message file at its limit plus a large envelope.
inline constexpr std::uint64_t max_segment_record = 80u * 1024 * 1024;

// message_frame - a message record around content that is not copied: write prefix,
//                 head, body, suffix back to back (one pwritev).
struct message_frame {
    std::string prefix;  // type, length, id, envelope, content length
    std::string suffix;  // the CRC
    std::uint64_t size() const { return prefix.size() + content_size + suffix.size(); }
    std::uint64_t content_size = 0;
};
// frame_message - env.message_size and env.message_crc must already describe head+body
//                 (the record's CRC is combined from message_crc: the content is not read).
message_frame frame_message(const envelope& env, std::string_view head, std::string_view body);
// encode_journal_outcome / encode_done - one whole record.
std::string encode_journal_outcome(const std::string& id, const outcome& o);
std::string encode_done(const std::string& id);

struct segment_entry {
    segment_record type = segment_record::done;
    std::uint64_t offset = 0;  // of the record within the segment
    std::string queue_id;
    envelope env;                       // message
    std::uint64_t content_offset = 0;   // message: where head+body start in the segment
    outcome result;                     // outcome
};

enum class segment_end {
    clean,      // every byte belongs to a valid record
    zero_tail,  // valid records, then only zero octets (preallocated or never written)
    torn_tail,  // the final record is cut short or fails its CRC: never acknowledged
    corrupt,    // a bad record with data after it (or in the last segment, see last)
};

struct segment_scan {
    std::vector<segment_entry> entries;  // the valid records before any damage, in order
    std::uint64_t valid_bytes = 0;       // where the valid records end
    segment_end end = segment_end::clean;
    std::string what;  // why the scan stopped early (torn_tail, corrupt)
};

// scan_segment - split and check a whole segment. last: this is the newest segment, whose
//                writer may have died mid-append: any damage there ends the log (torn_tail).
//                Elsewhere only a damaged FINAL record is torn; damage with more bytes after
//                it is corrupt. Never throws except bad_alloc.
segment_scan scan_segment(std::string_view bytes, bool last);

}  // namespace postrider::queue
