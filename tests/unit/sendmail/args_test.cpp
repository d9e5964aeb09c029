// tests/unit/sendmail/args_test.cpp: sendmail(1) flag parsing, table-driven, errors next to successes.
#include "support/catch.hpp"

#include "sendmail/args.hpp"

using namespace postrider::sendmail;

namespace {
parse_result parse(std::vector<std::string> a, std::string_view as = "sendmail") { return parse_args(a, as); }
}  // namespace

TEST_CASE("sendmail args: the flags user agents pass")
{
    auto r = parse({"-oi", "-t", "-f", "me@example.org", "-F", "Jo Doe", "bob"});
    REQUIRE(r.opts);
    CHECK(r.opts->run == mode::deliver);
    CHECK_FALSE(r.opts->dot_ends_input);
    CHECK(r.opts->recipients_from_headers);
    CHECK(*r.opts->sender == "me@example.org");
    CHECK(*r.opts->full_name == "Jo Doe");
    CHECK(r.opts->recipients == std::vector<std::string>{"bob"});
}

TEST_CASE("sendmail args: clusters, attached arguments, -- and operands")
{
    auto r = parse({"-ti", "-fme", "-rignored@x", "--", "-notaflag"});
    REQUIRE(r.opts);
    CHECK(r.opts->recipients_from_headers);
    CHECK_FALSE(r.opts->dot_ends_input);
    CHECK(*r.opts->sender == "ignored@x");  // the last of -f/-r wins
    CHECK(r.opts->recipients == std::vector<std::string>{"-notaflag"});
    auto ops = parse({"a@b", "-t"});  // POSIX: options stop at the first operand
    REQUIRE(ops.opts);
    CHECK(ops.opts->recipients == std::vector<std::string>{"a@b", "-t"});
}

TEST_CASE("sendmail args: modes")
{
    struct row { std::vector<std::string> args; std::string_view as; mode want; };
    const std::vector<row> rows = {
        {{}, "sendmail", mode::deliver},          {{"-bm"}, "sendmail", mode::deliver},
        {{"-bs"}, "sendmail", mode::smtp_stdio},  {{"-bp"}, "sendmail", mode::print_queue},
        {{"-bi"}, "sendmail", mode::rebuild_aliases}, {{"-I"}, "sendmail", mode::rebuild_aliases},
        {{"-q"}, "sendmail", mode::flush_queue},  {{"-q30m"}, "sendmail", mode::flush_queue},
        {{}, "mailq", mode::print_queue},         {{}, "newaliases", mode::rebuild_aliases},
    };
    for (const auto& r : rows) {
        INFO("as=" << r.as << " args=" << (r.args.empty() ? "" : r.args[0]));
        auto got = parse(r.args, r.as);
        REQUIRE(got.opts);
        CHECK(got.opts->run == r.want);
    }
}

TEST_CASE("sendmail args: DSN, 8BITMIME, VERP, ignored -o options")
{
    auto r = parse({"-N", "success,delay", "-B", "8bitmime", "-R", "full", "-V", "-odb", "-O", "x=y", "-v", "-C", "/etc/p.conf"});
    REQUIRE(r.opts);
    CHECK(r.opts->notify == (notify_success | notify_delay));
    CHECK(r.opts->body_8bit);
    CHECK(r.opts->ret_full);
    CHECK(r.opts->verp);
    CHECK(r.opts->config_file == "/etc/p.conf");
    CHECK(r.opts->dot_ends_input);  // -odb is not -oi
    CHECK(r.opts->ignored.size() == 3);
    CHECK(parse({"-N", "NEVER"}).opts->notify == notify_never);
    CHECK(parse({"-XV"}).opts->verp);
    CHECK(parse({"-XV"}).opts->verp_delimiters.empty());  // the configured verp_delimiters
    CHECK(parse({"-XV-="}).opts->verp_delimiters == "-=");
    CHECK(parse({"-V+-", "a@b"}).opts->verp_delimiters == "+-");
    CHECK(parse({"-tV"}).opts->verp);
    CHECK_FALSE(parse({"-V"}).opts->verp_delimiters.size());
    CHECK_FALSE(parse({"-Xv"}).opts->verp);
    CHECK(parse({"-f", "<>"}).opts->sender->empty());
}

TEST_CASE("sendmail args: usage errors say what is wrong")
{
    struct row { std::vector<std::string> args; std::string want; };
    const std::vector<row> rows = {
        {{"-z"}, "unknown option -z"},
        {{"-V+"}, "VERP delimiters must be two characters"},
        {{"-XV+=x"}, "VERP delimiters must be two characters"},
        {{"-XV.."}, "VERP delimiters must be two characters"},
        {{"-f"}, "option -f needs an argument"},
        {{"-N", "sometimes"}, "-N takes"},
        {{"-B", "BINARYMIME"}, "-B takes"},
        {{"-R", "all"}, "-R takes"},
        {{"-bd"}, "postrider serve"},
        {{"-bv"}, "not supported"},
        {{"-tz"}, "unknown option -z"},
        {{"-R", "a\nb"}, "-R takes full or hdrs, not 'a\\nb'"},  // one printable line (found by fuzz_sendmail_args)
        {{"-\x01"}, "unknown option -\\x01"},
    };
    for (const auto& r : rows) {
        INFO(r.args[0]);
        auto got = parse(r.args);
        CHECK_FALSE(got.opts);
        CHECK(got.error.find(r.want) != std::string::npos);
    }
}
