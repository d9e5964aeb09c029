// local/program_exit.hpp: what a delivery program's end means for the message.
//
// PURE: no I/O, no clock, no Asio (tests/check_layers.sh checks).
// Owns: the exit-status table of program delivery, qmail-command(8)'s:
//     0                              delivered
//     99                             delivered, and later lines of the forward file are skipped
//     100, 64, 65, 70, 76, 77, 78, 112   permanent failure: the recipient bounces (5.x.x)
//     111 and every other code       temporary failure: retried later (4.x.x)
//   killed by a signal, stopped by the timeout or by shutdown, or never started: temporary
//   (unknown means temporary: never lose mail). The enhanced codes of the sysexits values
//   follow Postfix's pipe(8).
// Trust: the status comes from the kernel; the output is the program's (UNTRUSTED bytes):
//        describe() flattens it to one line of printable text for the bounce and the log.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postrider::local {

// program_end - how the program's run ended.
struct program_end {
    enum class kind {
        exited,       // code holds the exit status
        signalled,    // code holds the signal number
        timed_out,    // killed (process group) after program_timeout
        cancelled,    // killed because the daemon is stopping
        not_started,  // spawn failed (no such file, not executable, no resources)
    };
    kind how = kind::not_started;
    int code = 0;
};

struct program_outcome {
    enum class kind { delivered, failed_permanent, failed_temporary };
    kind how = kind::failed_temporary;
    bool stop = false;   // exit 99: deliver, and process no further lines of the file
    std::string status;  // enhanced status code: "2.0.0", "5.3.0", "4.3.0", ...
};

// classify_exit - the table above.
program_outcome classify_exit(const program_end& end);

// describe - one-line reason for logs and bounces: "program /bin/x exited 100: <output>"
//            (or "was killed by signal 9", "timed out", ...). Output: CR, LF and tabs become
//            spaces, runs of blanks collapse, other control octets and 8-bit octets become '?'
//            (the bounce is us-ascii; Postfix's printable() does the same), trimmed and cut
//            to max_output octets (" [...]" marks a cut, and truncated output too).
std::string describe(std::string_view program, const program_end& end, std::string_view output,
                     bool output_truncated, std::size_t max_output = 1024);

}  // namespace postrider::local
