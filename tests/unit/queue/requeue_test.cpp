// tests/unit/queue/requeue_test.cpp: the journal records of "queue requeue" (pure).
#include "support/catch.hpp"

#include "queue/requeue.hpp"

using namespace postrider::queue;

namespace {

env_file three_recipients()
{
    env_file f;
    f.env.queue_id = "0123456789ABCDEF";
    f.env.sender = "a@example.org";
    f.env.recipients = {{"d@x", "", 0}, {"e@x", "", 0}, {"f@x", "", 0}, {"untried@x", "", 0}};
    f.journal = {{0, outcome_kind::deferred, 10, 20, 1, "4.2.0", "busy"},
                 {1, outcome_kind::deferred, 11, 21, 1, "4.4.1", "no route"},
                 {1, outcome_kind::delivered, 30, 0, 2, "2.0.0", "ok"},
                 {2, outcome_kind::failed, 12, 0, 1, "5.1.1", "unknown"},
                 {0, outcome_kind::deferred, 40, 99, 3, "4.3.0", "still busy"}};
    return f;
}

}  // namespace

TEST_CASE("requeue: only recipients whose last record is a deferral get a record", "[requeue]")
{
    auto out = requeue_outcomes(three_recipients(), 1000);
    REQUIRE(out.size() == 1);
    const auto& o = out[0];
    CHECK(o.recipient == 0);
    CHECK(o.kind == outcome_kind::deferred);
    CHECK(o.attempts == 0);  // the retry schedule starts again at retry_first
    CHECK(o.at_us == 1000);
    CHECK(o.next_attempt_us == 1000);  // due at once
    CHECK(o.status == "4.3.0");        // the last status is kept for mailq
    CHECK(o.reason == "requeued by admin request");
    CHECK(is_requeue_record(o));
}

TEST_CASE("requeue: a record survives the codec and is told apart from attempts", "[requeue]")
{
    auto f = three_recipients();
    std::string bytes = encode_envelope(f.env);
    for (const auto& o : f.journal) bytes += encode_outcome(o);
    for (const auto& o : requeue_outcomes(f, 5000)) bytes += encode_outcome(o);
    auto d = decode_env_file(bytes);
    REQUIRE(d.file);
    REQUIRE(d.file->journal.size() == f.journal.size() + 1);
    CHECK(is_requeue_record(d.file->journal.back()));
    for (std::size_t i = 0; i < f.journal.size(); ++i) CHECK_FALSE(is_requeue_record(d.file->journal[i]));
    // Requeued again at once: the requeue record is itself the last deferral, so one more.
    CHECK(requeue_outcomes(*d.file, 6000).size() == 1);
    CHECK(requeue_outcome(3, "", 1).status == "4.0.0");
}
