// queue/record.hpp: PURE codec for envelope files (env/ID): header, envelope, journal.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the on-disk byte format of env/ID and its version; CRC-32.
// Trust: decode() reads files from disk, which are UNTRUSTED at load (torn by a
//        crash, damaged, or planted): every length is bounds-checked, every
//        record CRC-checked, and every failure is a value, never a crash.
//        Untrusted text (addresses, HELO, reply text) only ever appears inside
//        length-prefixed fields, so it can never delimit or forge a record.
// Format v3 (docs/queue-format.md "env/ID"; v1 and v2 are read too): a sequence of records
//     u8 type | u32le payload length | payload | u32le crc32(type,length,payload)
//   1. header   (type 1): u32le magic "PRQ1" | u16le version
//   2. envelope (type 2): fields below, strings as u32le length + bytes
//   3. outcome  (type 3), zero or more, appended: the journal
//   A final record cut short or failing its CRC is a torn append (crash
//   during a write that was never acknowledged) and is ignored; damage
//   anywhere else makes the whole file invalid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::queue {

// v2 added envelope::is_double_bounce (one u8 at the end of the envelope record),
// v3 envelope::verp_delimiters (one str after it); v1 and v2 files are still read
// (is_double_bounce = false, no VERP), only v3 is written.
inline constexpr std::uint16_t format_version = 3;
inline constexpr std::uint16_t oldest_format_version = 1;
// Largest record accepted (a 1,000-recipient envelope is well under 1 MiB).
inline constexpr std::uint32_t max_record_octets = 16u * 1024 * 1024;
inline constexpr std::uint32_t max_recipients = 100000;

enum class record_type : std::uint8_t { header = 1, envelope = 2, outcome = 3 };

struct stored_recipient {
    std::string address;  // local@domain, no angle brackets
    std::string orcpt;    // RFC 3461 ORCPT (decoded), may be empty
    std::uint8_t notify = 0;  // queue::notify_flags bits
    bool operator==(const stored_recipient&) const = default;
};

struct envelope {
    std::string queue_id;
    std::string sender;  // empty = null reverse-path
    std::vector<stored_recipient> recipients;
    std::int64_t arrival_us = 0;   // unix time, microseconds
    std::uint64_t message_size = 0;  // octets of mess/ID
    std::uint32_t message_crc = 0;   // crc32 of mess/ID
    std::string client, helo, protocol, envid;
    bool body_8bit = false, smtputf8 = false, ret_full = false;
    bool is_bounce = false;  // a DSN we generated (sender is <>); never bounced again
    // A report about an undeliverable bounce, sent to double_bounce_recipient (format v2).
    // If it fails too, it is only logged: never a third message (no loop).
    bool is_double_bounce = false;
    // VERP (format v3): non-empty = the two delimiters; each recipient gets its own
    // envelope sender (core/verp.hpp) in remote transactions and in Return-Path.
    std::string verp_delimiters;
    bool operator==(const envelope&) const = default;
};

enum class outcome_kind : std::uint8_t { delivered = 1, failed = 2, deferred = 3 };

struct outcome {
    std::uint32_t recipient = 0;  // index into envelope::recipients
    outcome_kind kind = outcome_kind::deferred;
    std::int64_t at_us = 0;            // when it happened
    std::int64_t next_attempt_us = 0;  // deferred only
    std::uint32_t attempts = 0;        // attempts so far, this one included
    std::string status;                // enhanced status code, e.g. "4.2.0"
    std::string reason;                // human text (escaped before it got here)
    bool operator==(const outcome&) const = default;
};

struct decode_error {
    std::size_t offset = 0;  // byte offset of the bad record
    std::string what;
};

struct env_file {
    envelope env;
    std::vector<outcome> journal;
    bool torn_tail = false;  // a final, never-acknowledged append was cut short
};

struct decode_result {
    std::optional<env_file> file;      // set on success
    std::optional<decode_error> error;  // set on failure
};

// crc32 - IEEE 802.3 CRC-32 (zlib's), continuing from crc (0 to start).
std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0) noexcept;
// crc32_combine - crc32 of A then B from crc32(A), crc32(B) and B's length, without reading
//                 either (zlib's method: crc(A) times x^(8·len_b) modulo the polynomial).
std::uint32_t crc32_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t len_b) noexcept;
// encode_envelope - header record + envelope record: the whole initial env/ID.
std::string encode_envelope(const envelope& e);
// encode_outcome - one journal record to append to env/ID.
std::string encode_outcome(const outcome& o);
// decode_env_file - parse a whole env/ID; never throws on any input except bad_alloc.
decode_result decode_env_file(std::string_view bytes);

// The pieces the journal segments (segment.hpp) reuse: one record's framing and the
// payloads of the current (v3) envelope and of an outcome.
inline constexpr std::size_t record_frame_overhead = 1 + 4 + 4;  // type, length, CRC
// frame_record - type | u32 length | payload | CRC.
std::string frame_record(std::uint8_t type, std::string_view payload);
// envelope_payload / outcome_payload - the payload of a v3 envelope / an outcome record.
std::string envelope_payload(const envelope& e);
std::string outcome_payload(const outcome& o);
// parse_envelope_payload / parse_outcome_payload - false on any malformation (never throws).
bool parse_envelope_payload(std::string_view p, envelope& e);
bool parse_outcome_payload(std::string_view p, outcome& o);

}  // namespace postrider::queue
