// core/limits.hpp: every protocol and resource limit's default, in one reviewed file.
//
// Owns: compile-time defaults and hard ceilings. Runtime values live in config
//       and may only be lowered below the hard ceilings here.
// Trust: pure constants; no input.
// Standards: RFC 5321 4.5.3 (size limits), 4.5.3.2 (timeouts).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace postrider::limits {

// RFC 5321 4.5.3.1.4: a command line is at most 512 octets including CRLF.
inline constexpr std::size_t command_line_octets = 512;
// RFC 5321 4.5.3.1.6: a text line is at most 1000 octets including CRLF. We
// accept longer lines in DATA (real mail has them) up to this hard cap, so a
// peer that never sends a line break still cannot grow a buffer without bound.
inline constexpr std::size_t data_line_octets = 64 * 1024;
// RFC 5321 4.5.3.1.3: a path is at most 256 octets.
inline constexpr std::size_t path_octets = 256;
// RFC 5321 4.5.3.1.1/2: local part 64, domain 255 octets.
inline constexpr std::size_t local_part_octets = 64;
inline constexpr std::size_t domain_octets = 255;

// Default message size limit (Postfix message_size_limit is 10 MB; the issue asks 25 MiB).
inline constexpr std::uint64_t default_message_size = 25 * 1024 * 1024;
// The largest message_size_limit allowed: a queued message (trace header + content) must stay
// under what the queue reads back at recovery (queue::max_message_file, 64 MiB).
inline constexpr std::uint64_t max_message_size = 60 * 1024 * 1024;
// RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted.
inline constexpr std::size_t default_recipients = 1000;
// Postfix smtpd_hard_error_limit: after this many errors the session is closed.
inline constexpr std::size_t default_hard_errors = 20;

// RFC 5321 4.5.3.2.7: server timeout is at least 5 minutes.
inline constexpr std::chrono::seconds default_command_timeout{300};
// The whole session's budget, not extended by activity (slowloris guard).
inline constexpr std::chrono::seconds default_session_budget{1800};

inline constexpr std::size_t default_max_sessions = 1000;
inline constexpr std::size_t default_max_sessions_per_ip = 50;

// Longest header field value masquerading reads (Postfix header_size_limit is 102400);
// a longer field is left as it is.
inline constexpr std::size_t header_field_octets = 100 * 1024;

// Longest untrusted value copied into one log field.
inline constexpr std::size_t log_field_octets = 256;
// Longest log line written (a line quoting many fields stays one bounded line).
inline constexpr std::size_t log_line_octets = 4096;

}  // namespace postrider::limits
