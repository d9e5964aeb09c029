#include "support/catch.hpp"

#include "queue/queue_id.hpp"

#include <set>

using namespace postrider::queue;

TEST_CASE("queue ids are fixed-width, filename-safe and sort by time", "[queue_id]")
{
    auto a = format_queue_id(1700000000000000, 0);
    auto b = format_queue_id(1700000000000001, 0x1ffffff);
    auto c = format_queue_id(1800000000000000, 5);
    CHECK(a.size() == queue_id_length);
    CHECK(a == "1GA4GC1WG00" "00000");  // computed independently (python)
    CHECK(b.substr(11) == "ZZZZZ");
    CHECK(a < b);
    CHECK(b < c);
    CHECK(is_valid_queue_id(a));
    CHECK(is_valid_queue_id(c));
}

TEST_CASE("is_valid_queue_id rejects everything else", "[queue_id]")
{
    for (const char* bad : {"", "../../etc/passwd", "0123456789abcdef", "0123456789ABCDE", "0123456789ABCDEFG",
                            "0123456789ABCDE/", "0123456789ABCDEI", "0123456789ABCDE."}) {
        INFO(bad);
        CHECK_FALSE(is_valid_queue_id(bad));
    }
}

TEST_CASE("the generator never repeats and is monotonic within a process", "[queue_id]")
{
    queue_id_generator g;
    std::set<std::string> seen;
    std::string prev;
    for (int i = 0; i < 20000; ++i) {
        auto id = g.next();
        REQUIRE(is_valid_queue_id(id));
        REQUIRE(id.substr(0, 11) > prev.substr(0, prev.empty() ? 0 : 11));
        prev = id;
        seen.insert(id);
    }
    CHECK(seen.size() == 20000);
    queue_id_generator other;  // a "restart": different random part even in the same microsecond
    CHECK(other.next() != g.next());
}
