// sendmail/args.hpp: the sendmail(1) command line as a typed value.
//
// PURE: no I/O; the caller passes argv and gets options or an error sentence.
// Owns: which flags exist, what they mean, which are accepted and ignored
//       (as Postfix's sendmail does), and the usage error for the rest.
// Trust: argv comes from a local user (or a program acting for one, e.g. a
//        mail user agent or cron): not privileged, but not hostile to
//        itself either. Addresses given here are validated later by the
//        smtp/ parsers, never used as paths. Words quoted in an error are
//        escaped (core/escape): the error is always one printable line.
// See also: docs/sendmail.md (flag table, exit codes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::sendmail {

enum class mode {
    deliver,          // default (-bm): read a message on stdin and drop it
    smtp_stdio,       // -bs: an SMTP session on stdin/stdout
    print_queue,      // -bp, or invoked as mailq
    flush_queue,      // -q (any interval argument is ignored: one flush now)
    rebuild_aliases,  // -bi, -I, or invoked as newaliases
};

// RFC 3461 NOTIFY bits: the same values as queue::notify_flags (checked by a
// static_assert in app/sendmail_cmd.cpp; this header stays free of Asio).
inline constexpr std::uint8_t notify_never = 1, notify_success = 2, notify_failure = 4, notify_delay = 8;

struct options {
    mode run = mode::deliver;
    bool recipients_from_headers = false;  // -t
    std::optional<std::string> sender;     // -f / -r, as given (angle brackets stripped)
    std::optional<std::string> full_name;  // -F
    bool dot_ends_input = true;            // cleared by -i, -oi
    bool body_8bit = false;                // -B 8BITMIME
    std::uint8_t notify = 0;               // -N, as notify_* bits (0: not given)
    bool ret_full = false;                 // -R full
    bool verp = false;                     // -V[xy] / -XV[xy]: per-recipient envelope sender
    std::string verp_delimiters;           // xy of -Vxy / -XVxy; empty: the configured verp_delimiters
    std::string config_file;               // -C FILE: our configuration file
    std::vector<std::string> recipients;   // operands
    std::vector<std::string> ignored;      // flags accepted and ignored, for -v style notes
};

struct parse_result {
    std::optional<options> opts;  // set on success
    std::string error;            // set on failure: one sentence, no "usage:" prefix
};

// parse_args - getopt-style parsing of argv[1..] (clusters like -ti and attached
//              arguments like -fuser work); invoked_as is argv[0]'s basename
//              (mailq and newaliases select their mode).
parse_result parse_args(const std::vector<std::string>& args, std::string_view invoked_as);

// parse_notify - "never" or a comma list of success, failure, delay (any case); nullopt if bad.
std::optional<std::uint8_t> parse_notify(std::string_view s);

// usage_text - the short usage message printed with exit code 64 (EX_USAGE).
std::string_view usage_text();

}  // namespace postrider::sendmail
