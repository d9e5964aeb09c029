#include "support/catch.hpp"

#include "local/program_runner.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace postrider;
using namespace postrider::local;
using namespace std::chrono_literals;
using test::slurp;

namespace {

// script - an executable /bin/sh script in dir.
std::string script(const test::temp_dir& t, const std::string& name, const std::string& body)
{
    const auto p = t.path() / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    ::chmod(p.c_str(), 0755);
    return p.string();
}

program_spec spec_for(const test::temp_dir& t, std::vector<std::string> argv)
{
    program_spec s;
    s.argv = std::move(argv);
    s.env = {"PATH=/usr/bin:/bin", "HOME=" + t.path().string()};
    s.cwd = t.path();
    s.timeout = 20s;
    return s;
}

// reaped - pid is no longer our child (no zombie left behind).
bool reaped(long pid)
{
    int st = 0;
    return ::waitpid(static_cast<pid_t>(pid), &st, WNOHANG) == -1 && errno == ECHILD;
}

// dead - pid no longer runs (gone, or a zombie waiting for its new parent); bounded wait.
bool dead(long pid)
{
    for (int i = 0; i < 200; ++i) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line)) return true;
        const auto close = line.rfind(')');
        if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

std::vector<std::string> lines(const std::string& s)
{
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("a program gets the message on stdin and delivers it (bytes compared)", "[program_runner]")
{
    test::temp_dir t;
    const auto prog = script(t, "save", "exec /bin/cat > \"$HOME/out\"");
    const std::string head = "Return-Path: <a@b>\nDelivered-To: joe@x\n";
    std::string body;
    for (int i = 0; i < 20000; ++i) body += "line " + std::to_string(i) + " of a message bigger than a pipe\n";
    const auto r = run_program(spec_for(t, {prog}), head, body);
    CHECK(r.end.how == program_end::kind::exited);
    CHECK(r.end.code == 0);
    CHECK(classify_exit(r.end).how == program_outcome::kind::delivered);
    CHECK(slurp(t.path() / "out") == head + body);
    CHECK(r.output.empty());
    CHECK(reaped(r.pid));
}

TEST_CASE("exit 100 is permanent with the output in the reason; exit 111 temporary", "[program_runner]")
{
    test::temp_dir t;
    const auto hard = script(t, "hard", "/bin/cat >/dev/null; echo 'no such list: x' >&2; exit 100");
    auto r = run_program(spec_for(t, {hard}), "h\n", "body\n");
    REQUIRE(r.end.how == program_end::kind::exited);
    CHECK(r.end.code == 100);
    CHECK(classify_exit(r.end).how == program_outcome::kind::failed_permanent);
    CHECK(r.output == "no such list: x\n");
    CHECK(describe(hard, r.end, r.output, r.output_truncated) == "program " + hard + " exited 100: no such list: x");

    const auto soft = script(t, "soft", "echo 'disk quota'; exit 111");
    r = run_program(spec_for(t, {soft}), "h\n", "body\n");
    CHECK(r.end.code == 111);
    CHECK(classify_exit(r.end).how == program_outcome::kind::failed_temporary);
    CHECK(r.output == "disk quota\n");
    CHECK(reaped(r.pid));
}

TEST_CASE("arguments arrive as split, no shell in between", "[program_runner]")
{
    test::temp_dir t;
    const auto prog = script(t, "args", "for a in \"$@\"; do printf '[%s]' \"$a\"; done");
    const auto r = run_program(spec_for(t, {prog, "a b", "$HOME", "*", ""}), "", "");
    CHECK(r.end.code == 0);
    CHECK(r.output == "[a b][$HOME][*][]");
}

TEST_CASE("a program that never reads stdin and a huge message: no deadlock, no SIGPIPE", "[program_runner]")
{
    test::temp_dir t;
    const auto prog = script(t, "ignore", "echo ignored; exit 0");
    const std::string body(16 * 1024 * 1024, 'x');
    const auto started = std::chrono::steady_clock::now();
    const auto r = run_program(spec_for(t, {prog}), "h\n", body);
    CHECK(r.end.how == program_end::kind::exited);
    CHECK(r.end.code == 0);  // its exit status decides, not the unread message
    CHECK(r.output == "ignored\n");
    CHECK(std::chrono::steady_clock::now() - started < 10s);
    CHECK(reaped(r.pid));
}

TEST_CASE("a program past its timeout is killed with its process group, temporary, no zombie", "[program_runner]")
{
    test::temp_dir t;
    // The shell starts a child of its own: the timeout must kill that one too.
    const auto prog = script(t, "slow", "/bin/sleep 30 & echo $! > \"$HOME/child\"; echo waiting; wait");
    auto s = spec_for(t, {prog});
    s.timeout = 500ms;
    const auto started = std::chrono::steady_clock::now();
    const auto r = run_program(s, "h\n", "");
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(r.end.how == program_end::kind::timed_out);
    CHECK(classify_exit(r.end).how == program_outcome::kind::failed_temporary);
    CHECK(took >= 500ms);
    CHECK(took < 5s);
    CHECK(r.output == "waiting\n");
    CHECK(reaped(r.pid));
    const auto child = std::stol(slurp(t.path() / "child"));
    CHECK(dead(child));
}

TEST_CASE("a program flooding its output is bounded (rest drained) and still delivers", "[program_runner]")
{
    test::temp_dir t;
    const auto prog = script(t, "flood", "/usr/bin/head -c 5000000 /dev/zero | /usr/bin/tr '\\0' y; exit 0");
    auto s = spec_for(t, {prog});
    s.output_limit = 4096;
    const auto r = run_program(s, "h\n", "b\n");
    CHECK(r.end.how == program_end::kind::exited);
    CHECK(r.end.code == 0);
    CHECK(r.output == std::string(4096, 'y'));
    CHECK(r.output_truncated);
}

TEST_CASE("the environment is exactly the documented one; cwd is home", "[program_runner]")
{
    test::temp_dir t;
    ::setenv("POSTRIDER_SECRET_TEST", "leak", 1);  // the daemon's environment must not reach the program
    program_context c{"bob@example.org", "joe-list@example.net", "joe-list", "list", "example.net",
                      std::nullopt, t.path()};
    auto s = spec_for(t, {"/usr/bin/env"});
    s.env = program_environment(c);
    auto r = run_program(s, "", "");
    ::unsetenv("POSTRIDER_SECRET_TEST");
    CHECK(r.end.code == 0);
    CHECK(lines(r.output) == std::vector<std::string>{"EXT=list", "HOME=" + t.path().string(), "HOST=example.net",
                                                      "LOCAL=joe-list", "PATH=/usr/bin:/bin",
                                                      "RECIPIENT=joe-list@example.net", "SENDER=bob@example.org"});
    c.default_part = "list";
    c.sender = std::string("a\0b", 3);
    s.env = program_environment(c);
    r = run_program(s, "", "");
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 8);
    CHECK(r.output.find("DEFAULT=list\n") != std::string::npos);
    CHECK(r.output.find("SENDER=ab\n") != std::string::npos);

    s.argv = {"/bin/pwd"};
    r = run_program(s, "", "");
    CHECK(r.output == t.path().string() + "\n");
}

TEST_CASE("the program sees fds 0-2 only, its stdin a pipe", "[program_runner]")
{
    test::temp_dir t;
    const int leak = ::open("/dev/null", O_RDONLY);  // not CLOEXEC: closefrom must catch it
    REQUIRE(leak > 2);
    const auto prog = script(t, "fds", "/bin/ls /proc/$$/fd; /usr/bin/readlink /proc/$$/fd/0");
    const auto r = run_program(spec_for(t, {prog}), "", "");
    ::close(leak);
    CHECK(r.end.code == 0);
    INFO(r.output);
    // dash keeps the script open on fd 10 of its own: nothing else may be open.
    auto l = lines(r.output);
    std::vector<std::string> fds;
    std::copy_if(l.begin(), l.end(), std::back_inserter(fds), [](const std::string& s) { return s.find(':') == s.npos; });
    CHECK((fds == std::vector<std::string>{"0", "1", "2"} || fds == std::vector<std::string>{"0", "1", "10", "2"}));
    CHECK(std::find(fds.begin(), fds.end(), std::to_string(leak)) == fds.end());
    CHECK(r.output.find("pipe:[") != std::string::npos);
}

TEST_CASE("signals, a missing program, a relative path, a cancel", "[program_runner]")
{
    test::temp_dir t;
    const auto killer = script(t, "killself", "kill -TERM $$");
    auto r = run_program(spec_for(t, {killer}), "", "");
    CHECK(r.end.how == program_end::kind::signalled);
    CHECK(r.end.code == SIGTERM);
    CHECK(reaped(r.pid));

    r = run_program(spec_for(t, {(t.path() / "missing").string()}), "", "");
    CHECK(r.end.how == program_end::kind::not_started);
    CHECK(r.output == "No such file or directory");
    CHECK(r.pid == -1);

    r = run_program(spec_for(t, {"bin/sh"}), "", "");
    CHECK(r.end.how == program_end::kind::not_started);

    const auto slow = script(t, "slow", "exec /bin/sleep 30");
    program_canceller cancel;
    std::thread stopper([&] {
        std::this_thread::sleep_for(200ms);
        cancel.cancel();
    });
    const auto started = std::chrono::steady_clock::now();
    r = run_program(spec_for(t, {slow}), "", "", &cancel);
    stopper.join();
    CHECK(r.end.how == program_end::kind::cancelled);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(reaped(r.pid));
    r = run_program(spec_for(t, {slow}), "", "", &cancel);  // cancelled for good
    CHECK(r.end.how == program_end::kind::cancelled);
}
