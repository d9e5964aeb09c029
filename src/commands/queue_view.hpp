// commands/queue_view.hpp: PURE views of queue files for the queue tools:
//                          per-recipient state from the journal, mailq and
//                          JSON layouts, statistics.
//
// PURE: no I/O, no clock; times are formatted by the caller.
// Owns: the text layouts of mailq / `queue list` / `queue show` / `queue stats`.
// Trust: env files were decoded by queue::decode_env_file (which never trusts a
//        length); text fields (addresses, remote reply text) are still escaped
//        before printing so a planted byte cannot drive the admin's terminal.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "queue/record.hpp"

namespace postrider::commands {

enum class rcpt_state { pending, deferred, delivered, failed };

struct rcpt_view {
    std::string address;
    rcpt_state state = rcpt_state::pending;
    std::uint32_t attempts = 0;
    std::string status, reason;
    std::int64_t next_attempt_us = 0;
};

struct message_view {
    std::string id;
    std::string sender;
    std::int64_t arrival_us = 0;
    std::uint64_t size = 0;
    bool is_bounce = false;
    std::vector<rcpt_view> rcpts;
};

// view_of - replay the journal (the last record per recipient wins).
message_view view_of(const queue::env_file& f);
// state_name - "pending", "deferred", "delivered", "failed".
const char* state_name(rcpt_state s) noexcept;

// list_header - mailq's column header line.
std::string list_header();
// list_entry - one message in Postfix mailq layout (arrival already formatted), blank line after.
std::string list_entry(const message_view& m, const std::string& arrival);
// list_footer - "-- N Kbytes in M Requests." or "Mail queue is empty".
std::string list_footer(std::size_t messages, std::uint64_t bytes);
// json_entry - one message as one JSON object line.
std::string json_entry(const message_view& m);
// json_string - a JSON string literal (control bytes escaped; other bytes kept).
std::string json_string(std::string_view s);

struct queue_stats {
    std::size_t messages = 0, bounces = 0;
    std::uint64_t bytes = 0;
    std::map<std::string, std::size_t> by_state;        // recipients per state name
    std::map<std::string, std::size_t> by_destination;  // not-final recipients per domain
    std::int64_t oldest_arrival_us = 0;
};

// add_to_stats - count one message.
void add_to_stats(queue_stats& st, const message_view& m);
// stats_text - "key: value" lines.
std::string stats_text(const queue_stats& st);

// matches_filter - delete/select filters: sender equal (case-insensitive; "<>" = null) and/or
//                  any not-final recipient at domain (case-insensitive). Empty filter = no condition.
bool matches_filter(const message_view& m, const std::string& sender, const std::string& rcpt_domain);

}  // namespace postrider::commands
