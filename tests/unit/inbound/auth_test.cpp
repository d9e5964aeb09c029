// tests/unit/inbound/auth_test.cpp: the AUTH users file, crypt(3) checks, failure limits.
#include <chrono>
#include <ctime>

#include "inbound/auth_limiter.hpp"
#include "inbound/auth_table.hpp"
#include "support/catch.hpp"

using namespace postrider::inbound;

namespace {

// Made with libcrypt: crypt_gensalt("$y$"/"$6$") then crypt("secret", salt).
const std::string yescrypt_secret = "$y$j9T$GvT/bwH7Uz140EAw5aKWA0$Lc/S.lhsK4ilYO2unlTuCNsDq.lbKV3r8IePs5PbLJ4";
const std::string sha512_secret =
    "$6$WDHfmxNwJb.K.LxQ$1Fk5XthUbmX85YdlDJZYmiJvv/Sbe1q269iyMPMctDJALp6SmAn3VkRF.8B2UygCTOLjbnpmd8V4Mt8bJJg4b/";

}  // namespace

TEST_CASE("auth: crypt_r accepts the right password for yescrypt and SHA-512-crypt only", "[auth]")
{
    CHECK(password_matches("secret", yescrypt_secret));
    CHECK_FALSE(password_matches("Secret", yescrypt_secret));
    CHECK_FALSE(password_matches("", yescrypt_secret));
    CHECK(password_matches("secret", sha512_secret));
    CHECK_FALSE(password_matches("secret2", sha512_secret));
    CHECK_FALSE(password_matches("secret", "*"));  // locked entry
    CHECK_FALSE(password_matches("secret", "$y$garbage"));
}

TEST_CASE("auth: users file with sender lists, comments and errors", "[auth]")
{
    std::vector<std::string> errors;
    const auto t = auth_table::parse("# users\n"
                                     "alice:" + yescrypt_secret + ":alice@localhost, a.l@localhost\n"
                                     "bob@example.org:" + sha512_secret + "\r\n"
                                     "\n"
                                     "broken line\n"
                                     "nohash:\n"
                                     "alice:" + sha512_secret + "\n",
                                     errors);
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].rfind("line 5:", 0) == 0);
    CHECK(errors[1].rfind("line 6:", 0) == 0);
    CHECK(errors[2] == "line 7: user alice listed twice");
    CHECK(t.size() == 2);
    auto alice = t.check("alice", "secret");
    REQUIRE(alice);
    CHECK(*alice == std::vector<std::string>{"alice@localhost", "a.l@localhost"});
    auto bob = t.check("bob@example.org", "secret");
    REQUIRE(bob);
    CHECK(*bob == std::vector<std::string>{"bob@example.org"});  // a name with '@' may send as itself
    CHECK_FALSE(t.check("alice", "wrong"));
    CHECK_FALSE(t.check("nobody", "secret"));
    CHECK_FALSE(t.check("ALICE", "secret"));  // names are exact
}

TEST_CASE("auth: failures per client address block within the window, then age out", "[auth]")
{
    using namespace std::chrono_literals;
    auth_limiter l(3, 60s, 4);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
    CHECK_FALSE(l.blocked("192.0.2.1", t0));
    l.failed("192.0.2.1", t0);
    l.failed("192.0.2.1", t0 + 1s);
    CHECK_FALSE(l.blocked("192.0.2.1", t0 + 2s));
    l.failed("192.0.2.1", t0 + 2s);
    CHECK(l.blocked("192.0.2.1", t0 + 3s));
    CHECK_FALSE(l.blocked("192.0.2.2", t0 + 3s));  // other clients are not affected
    CHECK_FALSE(l.blocked("192.0.2.1", t0 + 61s));  // the window is over
    l.failed("192.0.2.3", t0);
    l.failed("192.0.2.3", t0);
    l.succeeded("192.0.2.3");
    l.failed("192.0.2.3", t0);
    CHECK_FALSE(l.blocked("192.0.2.3", t0));
    // Bounded memory: at most 4 addresses tracked, the oldest forgotten first.
    for (int i = 0; i < 10; ++i) l.failed("198.51.100." + std::to_string(i), t0 + std::chrono::seconds(i));
    CHECK(l.tracked() <= 4);
}

TEST_CASE("auth: a flood of distinct addresses stays bounded and forgets the oldest, not a live guesser",
          "[auth]")
{
    using namespace std::chrono_literals;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
    auth_limiter small(2, 600s, 4);
    for (int i = 0; i < 3; ++i) small.failed("198.51.100." + std::to_string(i), t0 + std::chrono::seconds(i));
    small.failed("192.0.2.1", t0 + 3s);
    small.failed("192.0.2.1", t0 + 3s);
    REQUIRE(small.blocked("192.0.2.1", t0 + 4s));
    small.failed("198.51.100.9", t0 + 5s);  // full: 198.51.100.0 (the oldest) goes
    CHECK(small.tracked() == 4);
    CHECK(small.blocked("192.0.2.1", t0 + 6s));
    small.failed("198.51.100.0", t0 + 6s);  // counts from zero again: it was forgotten
    CHECK_FALSE(small.blocked("198.51.100.0", t0 + 6s));

    // The default table under 100,000 addresses within one window (IPv6 makes them cheap).
    auth_limiter l(5, 600s);
    for (int i = 0; i < 5; ++i) l.failed("2001:db8::1", t0);
    const auto cpu0 = std::clock();
    for (int i = 0; i < 100000; ++i) {
        const auto now = t0 + std::chrono::milliseconds(i);
        l.failed("2001:db8:1::" + std::to_string(i), now);
        REQUIRE(l.tracked() <= 10000);
    }
    // Not two scans of the full table per new address (that was ~37 s of CPU here at -O2, 0.1 s now).
    CHECK(double(std::clock() - cpu0) / CLOCKS_PER_SEC < 5.0);
    CHECK(l.tracked() > 8000);  // only a batch at a time is forgotten
    CHECK(l.blocked("2001:db8::1", t0 + 100s));  // the guesser, oldest of all, was not flushed out
    CHECK(l.blocked("2001:db8:1::99999", t0 + 100s) == false);  // one failure does not block
    l.failed("2001:db8:1::99999", t0 + 100s);
    CHECK(l.tracked() <= 10000);
}
