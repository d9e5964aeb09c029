// core/log_format.hpp: the text of one log line, for the text (logfmt-ish) and JSON formats.
//
// Owns: JSON string escaping (always valid JSON, whatever the bytes), logfmt value
//       quoting, the whole-line length cap, and Postfix-style second counts.
// Trust: input may hold UNTRUSTED bytes (peer text already through core::escape,
//        but also OS error text, paths); output never breaks its line or its format.
// See also: log/log.cpp (the only writer), docs/configuration.md (log_format).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/limits.hpp"

namespace postrider::core {

// json_string - the body of a JSON string: \" \\ \n \r \t, \u00XX for other controls;
//               valid UTF-8 passes, every invalid byte becomes \ufffd (so the line is valid JSON).
std::string json_string(std::string_view raw);

// event_id - the leading "ID: " token of an event line (queue or session id, "queue",
//            "pickup", ...: one token of letters, digits, '-' or '_'), or empty.
std::string_view event_id(std::string_view line);

// json_fields - "id":"…","msg":"…" for one event line. A leading "ID: " whose ID is a single
//               token (see event_id) becomes the id field.
std::string json_fields(std::string_view line);

// logfmt_value - a value as logfmt writes it: bare when it is non-empty printable ASCII
//                without blank, quote, backslash or '='; else quoted with core::escape inside.
std::string logfmt_value(std::string_view raw, std::size_t max = limits::log_field_octets);

// cap_line - at most max octets; a longer line is cut and ends in "...[truncated]".
std::string cap_line(std::string_view line, std::size_t max = limits::log_line_octets);

// seconds_text - Postfix's delay= style: "0.12", "3.5", "17", "0" (two decimals, trailing zeros dropped).
std::string seconds_text(std::chrono::microseconds d);

}  // namespace postrider::core
