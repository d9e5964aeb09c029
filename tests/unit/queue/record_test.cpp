#include "support/catch.hpp"

#include "queue/record.hpp"

#include <random>

using namespace postrider::queue;

namespace {

envelope sample_envelope()
{
    envelope e;
    e.queue_id = "0123456789ABCDEF";
    e.sender = "alice@example.org";
    e.recipients = {{"bob@example.org", "rfc822;bob@example.org", 4}, {"carol@example.net", "", 0}};
    e.arrival_us = 1700000000123456;
    e.message_size = 4096;
    e.message_crc = 0xdeadbeef;
    e.client = "127.0.0.1";
    e.helo = "evil\r\n\x01\x02 helo";  // untrusted text with CRLF and control bytes
    e.protocol = "ESMTPS";
    e.envid = "ENV-1";
    e.body_8bit = true;
    e.ret_full = true;
    return e;
}

std::vector<outcome> sample_journal()
{
    return {{0, outcome_kind::deferred, 1700000001000000, 1700000301000000, 1, "4.2.0", "mailbox busy"},
            {1, outcome_kind::failed, 1700000002000000, 0, 1, "5.1.1", "unknown user\r\nX-Forged: yes"},
            {0, outcome_kind::delivered, 1700000302000000, 0, 2, "2.0.0", "delivered to maildir"}};
}

std::string sample_file()
{
    std::string f = encode_envelope(sample_envelope());
    for (const auto& o : sample_journal()) f += encode_outcome(o);
    return f;
}

}  // namespace

TEST_CASE("crc32 matches the standard check value", "[record]")
{
    CHECK(crc32("123456789") == 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
    CHECK(crc32("") == 0u);
    CHECK(crc32("6789", crc32("12345")) == 0xCBF43926u);  // incremental
}

TEST_CASE("crc32_combine gives the CRC of the concatenation at every split", "[record]")
{
    std::string d;
    for (int i = 0; i < 300; ++i) d += static_cast<char>((i * 131 + 7) & 0xff);
    for (std::size_t cut = 0; cut <= d.size(); ++cut) {
        INFO("cut " << cut);
        const std::string_view a(d.data(), cut), b(d.data() + cut, d.size() - cut);
        CHECK(crc32_combine(crc32(a), crc32(b), b.size()) == crc32(d));
    }
    CHECK(crc32_combine(crc32("12345"), crc32("6789"), 4) == 0xCBF43926u);
    const std::string big(100000, 'x');
    CHECK(crc32_combine(crc32("head"), crc32(big), big.size()) == crc32(big, crc32("head")));
}

TEST_CASE("crc32 (sliced by 8) equals the bitwise definition at every length and split", "[record]")
{
    auto bitwise = [](std::string_view d) {
        std::uint32_t c = ~0u;
        for (unsigned char b : d) {
            c ^= b;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return ~c;
    };
    std::string data;
    for (int i = 0; i < 70; ++i) data += static_cast<char>((i * 131 + 7) & 0xff);  // all high bits too
    for (std::size_t len = 0; len <= data.size(); ++len) {
        const std::string_view d(data.data(), len);
        INFO("length " << len);
        CHECK(crc32(d) == bitwise(d));
        const std::size_t cut = len / 3;
        CHECK(crc32(d.substr(cut), crc32(d.substr(0, cut))) == bitwise(d));
    }
}

TEST_CASE("decode(encode(x)) == x for envelope and journal", "[record]")
{
    auto d = decode_env_file(sample_file());
    REQUIRE(d.file);
    CHECK_FALSE(d.error);
    CHECK(d.file->env == sample_envelope());
    CHECK(d.file->journal == sample_journal());
    CHECK_FALSE(d.file->torn_tail);

    envelope minimal;  // null sender, one recipient, empty strings
    minimal.queue_id = "00000000000000000";
    minimal.recipients = {{"x@y", "", 0}};
    auto m = decode_env_file(encode_envelope(minimal));
    REQUIRE(m.file);
    CHECK(m.file->env == minimal);
    CHECK(m.file->journal.empty());
}

TEST_CASE("outcome record golden bytes (format v1 is frozen)", "[record]")
{
    outcome o{2, outcome_kind::delivered, 1, 0, 3, "2.0.0", "ok"};
    std::string got = encode_outcome(o);
    // type 3, payload length 43 (4+1+8+8+4+4+5+4+2), payload, crc32 of the first 48 bytes.
    std::string payload("\x02\x00\x00\x00" "\x01" "\x01\x00\x00\x00\x00\x00\x00\x00"
                        "\x00\x00\x00\x00\x00\x00\x00\x00" "\x03\x00\x00\x00"
                        "\x05\x00\x00\x00" "2.0.0" "\x02\x00\x00\x00" "ok", 40);
    std::string want = std::string("\x03\x28\x00\x00\x00", 5) + payload;
    std::uint32_t c = crc32(want);
    for (int i = 0; i < 4; ++i) want += static_cast<char>((c >> (8 * i)) & 0xff);
    CHECK(got == want);
}

TEST_CASE("truncation at every byte: header/envelope damage is an error, a cut journal a torn tail", "[record]")
{
    const std::string full = sample_file();
    const std::size_t base = encode_envelope(sample_envelope()).size();
    std::vector<std::size_t> ends{base};
    for (const auto& o : sample_journal()) ends.push_back(ends.back() + encode_outcome(o).size());
    for (std::size_t n = 0; n < full.size(); ++n) {
        INFO("prefix length " << n);
        auto d = decode_env_file(std::string_view(full).substr(0, n));
        if (n < base) {
            CHECK_FALSE(d.file);
            CHECK(d.error);
            continue;
        }
        REQUIRE(d.file);
        std::size_t whole = 0;
        while (whole + 1 < ends.size() && ends[whole + 1] <= n) ++whole;
        CHECK(d.file->journal.size() == whole);
        CHECK(d.file->torn_tail == (n != ends[whole]));
    }
}

TEST_CASE("every single bit flip is caught: never a changed record accepted", "[record]")
{
    const std::string full = sample_file();
    const auto want = sample_journal();
    std::size_t errors = 0;
    for (std::size_t i = 0; i < full.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string f = full;
            f[i] = static_cast<char>(f[i] ^ (1 << bit));
            auto d = decode_env_file(f);
            INFO("byte " << i << " bit " << bit);
            if (!d.file) {
                ++errors;
                continue;
            }
            // Accepted only as a torn tail: env intact and journal a strict prefix of the original.
            CHECK(d.file->env == sample_envelope());
            REQUIRE(d.file->journal.size() < want.size());
            CHECK(d.file->torn_tail);
            for (std::size_t k = 0; k < d.file->journal.size(); ++k) CHECK(d.file->journal[k] == want[k]);
        }
    }
    CHECK(errors > full.size());  // most flips are hard errors
}

TEST_CASE("version, magic and record type are checked", "[record]")
{
    std::string f = encode_envelope(sample_envelope());
    SECTION("future version")
    {
        // Rebuild the header record with version 4 and a valid CRC.
        std::string h("\x01\x06\x00\x00\x00" "PRQ1" "\x04\x00", 11);
        std::uint32_t c = crc32(h);
        for (int i = 0; i < 4; ++i) h += static_cast<char>((c >> (8 * i)) & 0xff);
        auto d = decode_env_file(h + f.substr(15));
        REQUIRE(d.error);
        CHECK(d.error->what == "unsupported format version 4");
    }
    SECTION("an envelope record where a journal record belongs")
    {
        auto d = decode_env_file(f + f.substr(15));
        REQUIRE(d.error);
        CHECK(d.error->what == "unexpected record type");
    }
    SECTION("journal record naming a recipient that does not exist")
    {
        auto d = decode_env_file(f + encode_outcome({7, outcome_kind::delivered, 0, 0, 1, "", ""}));
        REQUIRE(d.error);
        CHECK(d.error->what == "malformed journal record");
    }
    SECTION("empty file")
    {
        CHECK(decode_env_file("").error);
    }
}

TEST_CASE("random garbage never crashes the decoder", "[record]")
{
    std::mt19937 rng(42);
    const std::string full = sample_file();
    int accepted = 0;
    for (int i = 0; i < 2000; ++i) {
        std::string f = full.substr(0, rng() % (full.size() + 1));
        for (int k = 0; k < 4; ++k)
            if (!f.empty()) f[rng() % f.size()] = static_cast<char>(rng());
        auto d = decode_env_file(f);
        CHECK((d.file.has_value() != d.error.has_value()));
        if (d.file) ++accepted;
    }
    std::string noise(300, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    CHECK(decode_env_file(noise).error);
    CHECK(accepted < 2000);
}

namespace {

// frame_v - one record frame (type, u32le length, payload, crc32) built by hand, as the format says.
std::string frame_v(std::uint8_t type, const std::string& payload)
{
    std::string f(1, static_cast<char>(type));
    for (int i = 0; i < 4; ++i) f += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
    f += payload;
    std::uint32_t c = crc32(f);
    for (int i = 0; i < 4; ++i) f += static_cast<char>((c >> (8 * i)) & 0xff);
    return f;
}

}  // namespace

TEST_CASE("format v1 and v2 files are still read; v3 round-trips the double-bounce flag and VERP", "[record]")
{
    auto e = sample_envelope();
    e.is_bounce = true;
    e.is_double_bounce = true;
    e.verp_delimiters = "+=";
    auto v3 = encode_envelope(e);
    auto d3 = decode_env_file(v3);
    REQUIRE(d3.file);
    CHECK(d3.file->env.is_double_bounce);
    CHECK(d3.file->env.verp_delimiters == "+=");

    // Older files: the same fields, header version 1 or 2, envelope payload without
    // the v3 str (u32 length + 2 octets) and, for v1, the v2 byte before it.
    const std::size_t header_len = 15;
    const std::string v3_payload = v3.substr(header_len + 5, v3.size() - header_len - 9);
    const std::string v2_payload = v3_payload.substr(0, v3_payload.size() - 6);
    const std::string v1_payload = v2_payload.substr(0, v2_payload.size() - 1);
    const std::string v2 = frame_v(1, std::string("PRQ1\x02\x00", 6)) + frame_v(2, v2_payload);
    auto d2 = decode_env_file(v2);
    REQUIRE(d2.file);
    CHECK(d2.file->env.is_double_bounce);
    CHECK(d2.file->env.verp_delimiters.empty());
    const std::string v1 = frame_v(1, std::string("PRQ1\x01\x00", 6)) + frame_v(2, v1_payload);
    auto d1 = decode_env_file(v1 + encode_outcome(sample_journal()[0]));
    REQUIRE(d1.file);
    CHECK(d1.file->env.is_bounce);
    CHECK_FALSE(d1.file->env.is_double_bounce);
    CHECK(d1.file->journal.size() == 1);
    // An older payload under a newer header is short: malformed, not misread.
    CHECK(decode_env_file(frame_v(1, std::string("PRQ1\x02\x00", 6)) + frame_v(2, v1_payload)).error);
    CHECK(decode_env_file(frame_v(1, std::string("PRQ1\x03\x00", 6)) + frame_v(2, v2_payload)).error);
    CHECK(decode_env_file(frame_v(1, std::string("PRQ1\x04\x00", 6)) + frame_v(2, v3_payload)).error);
}
