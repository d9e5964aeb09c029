// Journal segment codec (queue/segment.hpp): records, split and damaged segments.
#include "support/catch.hpp"

#include "queue/segment.hpp"

#include <string>

using namespace postrider::queue;

namespace {

const std::string id1 = "0123456789ABCDEF", id2 = "0123456789ABCDEG";

envelope make_env(const std::string& id, std::string_view content)
{
    envelope e;
    e.queue_id = id;
    e.sender = "alice@example.org";
    e.recipients = {{"bob@example.org", "", 0}, {"carol@example.net", "rfc822;carol@example.net", 6}};
    e.arrival_us = 1700000000000000;
    e.message_size = content.size();
    e.message_crc = crc32(content);
    e.verp_delimiters = "+=";
    return e;
}

// message_bytes - a whole message record (head and body written back to back).
std::string message_bytes(const envelope& e, std::string_view head, std::string_view body)
{
    auto f = frame_message(e, head, body);
    return f.prefix + std::string(head) + std::string(body) + f.suffix;
}

outcome make_outcome()
{
    return {1, outcome_kind::delivered, 1700000000500000, 0, 1, "2.0.0", "250 ok \"quoted\""};
}

// a_segment - message 1, its outcome, message 2, done of message 1.
std::string a_segment()
{
    const std::string c1 = "Received: x\r\nSubject: one\r\n\r\nbody\r\n", c2 = "Subject: two\r\n\r\n";
    return message_bytes(make_env(id1, c1), "Received: x\r\n", "Subject: one\r\n\r\nbody\r\n") +
           encode_journal_outcome(id1, make_outcome()) + message_bytes(make_env(id2, c2), "", c2) + encode_done(id1);
}

}  // namespace

TEST_CASE("a segment's records read back with their fields and content offsets", "[segment]")
{
    const std::string seg = a_segment();
    auto s = scan_segment(seg, false);
    CHECK(s.end == segment_end::clean);
    CHECK(s.valid_bytes == seg.size());
    REQUIRE(s.entries.size() == 4);
    CHECK(s.entries[0].type == segment_record::message);
    CHECK(s.entries[0].queue_id == id1);
    CHECK(s.entries[0].env.recipients.size() == 2);
    CHECK(s.entries[0].env.verp_delimiters == "+=");
    CHECK(seg.substr(s.entries[0].content_offset, s.entries[0].env.message_size) ==
          "Received: x\r\nSubject: one\r\n\r\nbody\r\n");
    CHECK(s.entries[1].type == segment_record::outcome);
    CHECK(s.entries[1].result == make_outcome());
    CHECK(s.entries[2].queue_id == id2);
    CHECK(s.entries[2].offset > s.entries[1].offset);
    CHECK(seg.substr(s.entries[2].content_offset, s.entries[2].env.message_size) == "Subject: two\r\n\r\n");
    CHECK(s.entries[3].type == segment_record::done);
    CHECK(s.entries[3].queue_id == id1);
}

TEST_CASE("a segment cut at every octet keeps the whole records before the cut", "[segment]")
{
    const std::string seg = a_segment();
    const auto whole = scan_segment(seg, false).entries;
    for (std::size_t cut = 0; cut < seg.size(); ++cut) {
        INFO("cut at " << cut);
        auto s = scan_segment(seg.substr(0, cut), true);
        std::size_t expect = 0;
        while (expect < whole.size() && (expect + 1 < whole.size() ? whole[expect + 1].offset : seg.size()) <= cut)
            ++expect;
        CHECK(s.entries.size() == expect);
        CHECK((s.end == segment_end::torn_tail) == (s.valid_bytes != cut));
        // Not the last segment: a cut record is still its final one, so it is torn, never corrupt.
        CHECK(scan_segment(seg.substr(0, cut), false).end != segment_end::corrupt);
    }
}

TEST_CASE("a bad CRC mid-segment is corruption, except in the last segment or on the final record", "[segment]")
{
    std::string seg = a_segment();
    const auto whole = scan_segment(seg, false).entries;
    std::string mid = seg;
    mid[whole[1].offset + 12] ^= 0x40;  // inside the outcome record
    auto s = scan_segment(mid, false);
    CHECK(s.end == segment_end::corrupt);
    CHECK(s.entries.size() == 1);  // the message before it is kept
    CHECK(s.valid_bytes == whole[1].offset);
    CHECK(scan_segment(mid, true).end == segment_end::torn_tail);

    std::string tail = seg;
    tail[seg.size() - 2] ^= 1;  // the CRC of the final done record
    auto t = scan_segment(tail, false);
    CHECK(t.end == segment_end::torn_tail);
    CHECK(t.entries.size() == 3);
}

TEST_CASE("content that does not match its envelope's CRC is a bad record", "[segment]")
{
    envelope e = make_env(id1, "Subject: x\r\n\r\n");
    std::string rec = message_bytes(e, "", "Subject: y\r\n\r\n");  // record CRC fine, content CRC not
    auto s = scan_segment(rec + encode_done(id2), false);
    CHECK(s.end == segment_end::corrupt);
    CHECK(s.entries.empty());
}

TEST_CASE("zero octets after the records end the log; zeros then data are corrupt", "[segment]")
{
    const std::string seg = a_segment();
    auto s = scan_segment(seg + std::string(4096, '\0'), false);
    CHECK(s.end == segment_end::zero_tail);
    CHECK(s.entries.size() == 4);
    CHECK(s.valid_bytes == seg.size());
    CHECK(scan_segment(std::string(100, '\0'), true).end == segment_end::zero_tail);
    CHECK(scan_segment(seg + std::string(10, '\0') + "x", false).end == segment_end::corrupt);
}

TEST_CASE("an oversized record length or an unknown type is never trusted", "[segment]")
{
    std::string huge(1, '\x04');
    huge += std::string("\xff\xff\xff\x7f", 4);
    huge += std::string(64, 'a');
    auto s = scan_segment(encode_done(id1) + huge, false);
    CHECK(s.end == segment_end::corrupt);
    CHECK(s.entries.size() == 1);
    CHECK(s.what == "record length out of range");
    // An env/ID record type (outcome, 3) framed correctly is not a segment record.
    std::string foreign = encode_outcome(make_outcome());
    CHECK(scan_segment(foreign + encode_done(id1), false).end == segment_end::corrupt);
    // A record whose queue id is not a valid id.
    std::string bad_id = encode_done("../../etc/passwd");
    CHECK(scan_segment(bad_id + encode_done(id1), false).end == segment_end::corrupt);
}

TEST_CASE("an outcome record naming a recipient is decoded whatever its index (replay checks range)", "[segment]")
{
    outcome o = make_outcome();
    o.recipient = 99;
    auto s = scan_segment(encode_journal_outcome(id1, o), false);
    REQUIRE(s.entries.size() == 1);
    CHECK(s.entries[0].result.recipient == 99);
}
