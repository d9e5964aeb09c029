#include "support/catch.hpp"

#include "local/program_exit.hpp"

#include <string>

using namespace postrider::local;
using end_kind = program_end::kind;
using out = program_outcome::kind;

TEST_CASE("exit statuses map as qmail-command(8) says", "[program_exit]")
{
    struct row {
        program_end end;
        out want;
        bool stop;
        const char* status;
    };
    const row rows[] = {
        {{end_kind::exited, 0}, out::delivered, false, "2.0.0"},
        {{end_kind::exited, 99}, out::delivered, true, "2.0.0"},
        {{end_kind::exited, 100}, out::failed_permanent, false, "5.3.0"},
        {{end_kind::exited, 64}, out::failed_permanent, false, "5.3.0"},
        {{end_kind::exited, 65}, out::failed_permanent, false, "5.6.0"},
        {{end_kind::exited, 70}, out::failed_permanent, false, "5.3.0"},
        {{end_kind::exited, 76}, out::failed_permanent, false, "5.5.0"},
        {{end_kind::exited, 77}, out::failed_permanent, false, "5.7.0"},
        {{end_kind::exited, 78}, out::failed_permanent, false, "5.3.5"},
        {{end_kind::exited, 112}, out::failed_permanent, false, "5.3.0"},
        {{end_kind::exited, 111}, out::failed_temporary, false, "4.3.0"},
        {{end_kind::exited, 1}, out::failed_temporary, false, "4.3.0"},
        {{end_kind::exited, 67}, out::failed_temporary, false, "4.3.0"},   // EX_NOUSER: not in qmail's list
        {{end_kind::exited, 75}, out::failed_temporary, false, "4.3.0"},   // EX_TEMPFAIL
        {{end_kind::exited, 101}, out::failed_temporary, false, "4.3.0"},
        {{end_kind::exited, 255}, out::failed_temporary, false, "4.3.0"},
        {{end_kind::signalled, 9}, out::failed_temporary, false, "4.3.0"},
        {{end_kind::signalled, 0}, out::failed_temporary, false, "4.3.0"},  // code 0, but not an exit
        {{end_kind::timed_out, 0}, out::failed_temporary, false, "4.3.0"},
        {{end_kind::cancelled, 0}, out::failed_temporary, false, "4.3.0"},
        {{end_kind::not_started, 0}, out::failed_temporary, false, "4.3.0"},
    };
    for (const auto& r : rows) {
        INFO("kind " << static_cast<int>(r.end.how) << " code " << r.end.code);
        const auto o = classify_exit(r.end);
        CHECK(o.how == r.want);
        CHECK(o.stop == r.stop);
        CHECK(o.status == r.status);
    }
}

TEST_CASE("describe: one printable line, output flattened and bounded", "[program_exit]")
{
    CHECK(describe("/bin/x", {end_kind::exited, 100}, "", false) == "program /bin/x exited 100");
    CHECK(describe("/bin/x", {end_kind::exited, 100}, "  no such list\r\n\tsorry\n\n", false) ==
          "program /bin/x exited 100: no such list sorry");
    CHECK(describe("/bin/x", {end_kind::signalled, 9}, "", false) == "program /bin/x was killed by signal 9");
    CHECK(describe("/bin/x", {end_kind::timed_out, 0}, "", false) ==
          "program /bin/x timed out (program_timeout) and was killed");
    CHECK(describe("/nope", {end_kind::not_started, 0}, "No such file or directory", false) ==
          "program /nope could not be started: No such file or directory");
    CHECK(describe("/bin/x", {end_kind::exited, 1}, std::string("a\0b\x1b[31mc\x7f", 10), false) ==
          "program /bin/x exited 1: a?b?[31mc?");
    CHECK(describe("/bin/x", {end_kind::exited, 75}, "sp\xc3\xa4ter", false) == "program /bin/x exited 75: sp??ter");
    CHECK(describe("/bin/x", {end_kind::exited, 1}, "abcdefgh", false, 4) == "program /bin/x exited 1: abcd [...]");
    CHECK(describe("/bin/x", {end_kind::exited, 1}, "abc", true) == "program /bin/x exited 1: abc [...]");
    CHECK(describe("/bin/x\nInjected: y", {end_kind::exited, 0}, "", false) == "program /bin/x Injected: y exited 0");
}
