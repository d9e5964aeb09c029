#include "support/catch.hpp"

#include "config/settings.hpp"
#include "config/units.hpp"

using namespace postrider::config;

TEST_CASE("parse_duration accepts units and rejects junk", "[config]")
{
    struct row { const char* in; long long want; };  // want < 0: rejected
    auto r = GENERATE(values<row>({
        {"300", 300}, {"300s", 300}, {"5m", 300}, {"2h", 7200}, {"5d", 432000}, {"1w", 604800},
        {"", -1}, {"s", -1}, {"5x", -1}, {"-5", -1}, {"5 m", -1}, {"99999999999999999999", -1},
        {"9999999999w", -1},
    }));
    INFO("input '" << r.in << "'");
    auto got = parse_duration(r.in);
    if (r.want < 0)
        CHECK(!got);
    else
        CHECK((got && got->count() == r.want));
}

TEST_CASE("parse_size accepts k M G and rejects overflow", "[config]")
{
    CHECK(parse_size("1024") == 1024u);
    CHECK(parse_size("25M") == 25u * 1024 * 1024);
    CHECK(parse_size("2k") == 2048u);
    CHECK(parse_size("1G") == 1024u * 1024 * 1024);
    CHECK(!parse_size("1T"));
    CHECK(!parse_size("M"));
    CHECK(!parse_size("18446744073709551615G"));
}

TEST_CASE("the built-in defaults are valid; each bad value is reported", "[config]")
{
    settings s;
    CHECK(validate(s).empty());

    s.listen = {"127.0.0.1"};
    s.recipient_limit = 50;
    s.log_format = "xml";
    s.max_sessions_per_ip = s.max_sessions + 1;
    auto errors = validate(s);
    REQUIRE(errors.size() == 4);
    CHECK(errors[0].find("listen") == 0);
    CHECK(errors[1].find("recipient_limit") == 0);
    CHECK(errors[2].find("max_sessions_per_ip") == 0);
    CHECK(errors[3].find("log_format") == 0);

    settings big;
    big.message_size_limit = 60u * 1024 * 1024;
    CHECK(validate(big).empty());
    big.message_size_limit += 1;  // past what the queue reads back at recovery
    auto too_big = validate(big);
    REQUIRE(too_big.size() == 1);
    CHECK(too_big[0].find("message_size_limit") == 0);
}

TEST_CASE("listen accepts IPv4, bracketed IPv6 and port 0", "[config]")
{
    settings s;
    for (const char* ok : {"127.0.0.1:25", "[::1]:2525", "0.0.0.0:0"}) {
        s.listen = {ok};
        INFO(ok);
        CHECK(validate(s).empty());
    }
    for (const char* bad : {"127.0.0.1:", ":25", "[::1:25", "host:65536", "host:2x"}) {
        s.listen = {bad};
        INFO(bad);
        CHECK(validate(s).size() == 1);
    }
}

TEST_CASE("retry, delay warning and double bounce knobs: defaults and validation", "[config]")
{
    settings s;
    CHECK(s.retry_first == std::chrono::seconds(300));
    CHECK(s.retry_max == std::chrono::seconds(3600));
    CHECK(s.delay_warning_time == std::chrono::seconds(4 * 3600));
    CHECK(s.double_bounce_recipient.empty());

    s.delay_warning_time = std::chrono::seconds(0);  // 0 disables delay notices: valid
    s.double_bounce_recipient = "postmaster@example.org";
    s.retry_first = s.retry_max = std::chrono::seconds(1);
    CHECK(validate(s).empty());

    s.retry_first = std::chrono::seconds(0);
    s.delay_warning_time = std::chrono::seconds(-1);
    s.double_bounce_recipient = "postmaster";
    auto errors = validate(s);
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].find("retry_first") == 0);
    CHECK(errors[1].find("delay_warning_time") == 0);
    CHECK(errors[2].find("double_bounce_recipient") == 0);

    s = settings{};
    s.retry_max = std::chrono::seconds(60);  // shorter than retry_first (300 s)
    errors = validate(s);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("retry_max") == 0);
    for (const char* bad : {"@example.org", "user@", "a b@example.org", "<a@example.org>", "a@b\r\nX: y"}) {
        s = settings{};
        s.double_bounce_recipient = bad;
        INFO(bad);
        CHECK(validate(s).size() == 1);
    }
}

TEST_CASE("dns_timeout: 5 s by default, 1 s to 60 s allowed", "[config]")
{
    settings s;
    CHECK(s.dns_timeout == std::chrono::seconds(5));
    for (auto ok : {1, 60}) {
        s.dns_timeout = std::chrono::seconds(ok);
        CHECK(validate(s).empty());
    }
    for (auto bad : {0, 61}) {
        s.dns_timeout = std::chrono::seconds(bad);
        auto errors = validate(s);
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].find("dns_timeout") == 0);
    }
}

TEST_CASE("masquerade knobs: defaults, validation and the rules they make", "[config][masquerade]")
{
    settings s;
    CHECK(s.masquerade_domains.empty());
    CHECK(s.masquerade_exceptions.empty());
    CHECK(s.masquerade_classes == std::vector<std::string>{"envelope_sender", "header_sender"});
    CHECK_FALSE(s.hide_client_hosts);
    CHECK(s.myorigin.empty());

    s.masquerade_domains = {"!Dev.Example.com", "Example.COM"};
    s.masquerade_exceptions = {"Root"};
    s.masquerade_classes = {"header_sender", "header_recipient"};
    s.myorigin = "host.example.com";
    CHECK(validate(s).empty());
    auto r = masquerade_rules(s);
    CHECK(r.domains == std::vector<std::string>{"!dev.example.com", "example.com"});
    CHECK(r.exceptions == std::vector<std::string>{"root"});
    CHECK(r.classes == (postrider::core::masq_header_sender | postrider::core::masq_header_recipient));
    CHECK(masquerade_rules(settings{}).classes ==
          (postrider::core::masq_envelope_sender | postrider::core::masq_header_sender));

    s.masquerade_domains = {"exa mple.com", "!", "a..b", ".example.com"};
    s.masquerade_exceptions = {"a@b"};
    s.masquerade_classes = {"envelope_recipient"};
    s.myorigin = "host/example";
    auto errors = validate(s);
    REQUIRE(errors.size() == 7);
    for (int i = 0; i < 4; ++i) CHECK(errors[static_cast<std::size_t>(i)].find("masquerade_domains") == 0);
    CHECK(errors[4].find("masquerade_exceptions") == 0);
    CHECK(errors[5].find("masquerade_classes") == 0);
    CHECK(errors[6].find("myorigin") == 0);
}

TEST_CASE("program delivery knobs: defaults and validation", "[config]")
{
    settings s;
    CHECK(s.program_timeout == std::chrono::seconds(1000));
    CHECK(s.program_output_limit == 4096);
    s.program_timeout = std::chrono::seconds(1);
    s.program_output_limit = 0;  // keep no output: valid
    CHECK(validate(s).empty());
    s.program_output_limit = 65536;
    CHECK(validate(s).empty());

    s.program_timeout = std::chrono::seconds(0);
    s.program_output_limit = 65537;
    const auto errors = validate(s);
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].find("program_timeout") == 0);
    CHECK(errors[1].find("program_output_limit") == 0);
}
