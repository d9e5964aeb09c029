// local/program_runner.hpp: run one delivery program ("|command" of a forward file).
//
// Owns: the child process of a program delivery from spawn to reap: its argv, environment,
//       working directory, descriptors, stdin feed, bounded output capture and timeout.
// Trust: argv comes from split_command() (USER input, already validated: absolute program,
//        no shell); the program is the user's and runs with the daemon's (service) uid,
//        so nothing of the daemon leaks into it: environment built from scratch, only
//        fds 0-2 open (stdin a pipe, stdout and stderr one pipe), signals at their defaults,
//        its own process group (the timeout kills the whole group). Its output is
//        UNTRUSTED: kept up to output_limit octets, the rest read and discarded.
// Threads: run_program() BLOCKS until the program ends (poll loop on the pipes and a pidfd)
//        and must run on a worker thread, never on the io_context (the queue manager runs
//        it on its program worker, queue/disk_worker.hpp). It reaps only its own child by
//        pid, never waits for "any child" and installs no SIGCHLD handler, so it cannot
//        steal another component's child statuses. SIGPIPE is blocked in the calling
//        thread while it writes (a program that never reads its stdin is not an error).
// See also: command_line.hpp, program_exit.hpp, docs/addressing.md ("Program delivery"),
//           docs/security.md.
#pragma once

#include "local/program_exit.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postrider::local {

// program_context - who the delivery is for (qmail-command(8)'s variables).
struct program_context {
    std::string sender;                       // envelope sender ("" for <>)
    std::string recipient;                    // envelope recipient, local@host
    std::string local;                        // its local part, extension included
    std::string ext;                          // the extension ("" when none)
    std::string host;                         // its domain
    std::optional<std::string> default_part;  // the part matched by a "-default" file, if one matched
    std::filesystem::path home;               // the user's directory (also the working directory)
};

// program_environment - exactly SENDER, RECIPIENT, LOCAL, EXT, HOST, DEFAULT (only when
//                       default_part is set), HOME and PATH=/usr/bin:/bin, as NAME=value;
//                       NUL octets are dropped from values. Nothing is inherited.
std::vector<std::string> program_environment(const program_context& c);

struct program_spec {
    std::vector<std::string> argv;       // argv[0] absolute (refused otherwise)
    std::vector<std::string> env;        // NAME=value entries, the whole environment
    std::filesystem::path cwd;           // working directory
    std::chrono::milliseconds timeout{1000 * 1000};
    std::size_t output_limit = 4096;     // stdout+stderr octets kept
};

struct program_result {
    program_end end;
    std::string output;              // the first output_limit octets (not_started: why)
    bool output_truncated = false;   // more was written and discarded
    long pid = -1;                   // the child's pid (-1: none), for tests
};

// program_canceller - lets a stopping daemon end every running program at once. cancel()
//                     is thread-safe and permanent; programs then started end at once too.
class program_canceller {
public:
    program_canceller();
    ~program_canceller();
    program_canceller(const program_canceller&) = delete;
    program_canceller& operator=(const program_canceller&) = delete;
    void cancel();
    int fd() const { return fd_; }  // readable once cancelled (eventfd)

private:
    int fd_;
};

// run_program - spawn spec.argv, write head then body to its stdin, collect its output,
//               wait for it (or kill its process group at the timeout or on cancel) and reap.
//               A program that exits with its stdin half read is not an error: its exit
//               status decides. After it exits, output still held open by a process it left
//               behind is read for at most a second more, then the pipe is closed.
program_result run_program(const program_spec& spec, std::string_view head, std::string_view body,
                           const program_canceller* cancel = nullptr);

}  // namespace postrider::local
