// pickup/drop_format.hpp: PURE codec for maildrop files (maildrop/new/NAME).
//
// PURE: no I/O.
// Owns: the byte format the sendmail wrapper writes and the pickup service reads.
// Trust: decode_drop() reads a file that ANY process able to write into the
//        maildrop could have planted or truncated: every length is checked
//        against the remaining bytes, the whole file is CRC-checked, and
//        every failure is a value. Decoding proves only the framing; the
//        fields are validated again by pickup/validate.hpp before submission.
// Format, version 2 (docs/sendmail.md "Maildrop file format"); integers little-endian:
//     u32 magic "PRD1" | u16 version | u32 payload length | payload | u32 crc32(all before it)
//   payload: str sender | u32 n | n x (str address, u8 notify) | str envid | u8 flags
//            | str protocol | str helo | str content | v2: str verp_delimiters
//   str = u32 length + bytes; flags: 1 ret_full, 2 body_8bit, 4 smtputf8, 8 verp.
//   Version 1 (no verp_delimiters) is still read: its VERP uses the configured delimiters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::pickup {

inline constexpr std::uint16_t drop_format_version = 2;
inline constexpr std::uint16_t oldest_drop_format_version = 1;
// Bytes before the payload (magic, version, payload length) and after it (CRC).
inline constexpr std::size_t drop_head_octets = 4 + 2 + 4;
inline constexpr std::size_t drop_tail_octets = 4;
// Far above any message the wrapper accepts (message_size_limit) but bounded.
inline constexpr std::uint32_t max_drop_payload = 128u * 1024 * 1024;

struct drop_recipient {
    std::string address;
    std::uint8_t notify = 0;  // queue::notify_flags
    bool operator==(const drop_recipient&) const = default;
};

struct dropped_message {
    std::string sender;  // "" = null reverse-path
    std::vector<drop_recipient> recipients;
    std::string envid;
    bool ret_full = false, body_8bit = false, smtputf8 = false, verp = false;
    std::string protocol;  // "local" (stdin) or "ESMTP"/"SMTP" (-bs)
    std::string helo;      // -bs only
    std::string content;   // CRLF lines, headers completed
    std::string verp_delimiters;  // with verp: the two delimiters; empty: the configured ones
    bool operator==(const dropped_message&) const = default;
};

struct drop_decode {
    std::optional<dropped_message> message;
    std::string error;  // set when message is empty
};

// encode_drop - the whole file.
std::string encode_drop(const dropped_message& m);
// decode_drop - parse a whole file; never throws except bad_alloc.
drop_decode decode_drop(std::string_view bytes);

}  // namespace postrider::pickup
