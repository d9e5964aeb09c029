// local/command_line.hpp: split a forward file's "|command" into argv, without a shell.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the one argv grammar of program delivery (docs/addressing.md "Program delivery").
// Trust: the text is USER input: a line of a forward file that a mail user may write.
//        Nothing in it is ever interpreted by a shell, expanded or searched for in PATH;
//        every malformed line is refused with a reason (the delivery then defers).
// Grammar: words separated by blanks (space, tab). 'single quotes' keep everything up to
//   the next single quote literally; "double quotes" do too, except that \" and \\ stand
//   for " and \; outside quotes a backslash takes the next character literally. Quotes
//   join with adjacent text ("a"'b'c is one word abc; '' is an empty word).
// Refused: NUL and other control characters (tab excepted), an unterminated quote, a
//   trailing backslash, no words, more than max_args words or max_bytes octets, an
//   unquoted shell operator (| & ; < > ( ) $ `: without a shell they would silently become
//   arguments instead of doing what the line's author meant), and a first word that is not
//   an absolute path (no PATH search: what runs never depends on the daemon's environment
//   or working directory, and the log names exactly the file that ran).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::local {

struct command_limits {
    std::size_t max_args = 64;      // words, the program included
    std::size_t max_bytes = 4096;   // octets of the command text
};

struct command_split {
    std::vector<std::string> argv;  // argv[0] is an absolute path; empty when error is set
    std::string error;              // empty: valid
    explicit operator bool() const { return error.empty(); }
};

// split_command - argv of command (the text after '|'), or why it is refused.
command_split split_command(std::string_view command, const command_limits& limits = {});

}  // namespace postrider::local
