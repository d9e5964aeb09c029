// queue/record.cpp: PURE record codec (see record.hpp for the format).
#include "queue/record.hpp"

#include <array>
#include <utility>

namespace postrider::queue {
namespace {

constexpr std::uint32_t magic = 0x31515250;  // "PRQ1" little-endian
constexpr std::size_t frame_overhead = 1 + 4 + 4;

// crc_tables - the reflected 0xEDB88320 table and its seven slicing-by-8 extensions
//              (table k: the CRC of a byte followed by k zero bytes), built at compile time.
constexpr std::array<std::array<std::uint32_t, 256>, 8> crc_tables = [] {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t k = 1; k < 8; ++k)
        for (std::size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    return t;
}();

// writer - little-endian field appender.
struct writer {
    std::string out;
    void u8(std::uint8_t v) { out += static_cast<char>(v); }
    void u16(std::uint16_t v) { for (int i = 0; i < 2; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i))); }
    void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i))); }
    void u64(std::uint64_t v) { for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i))); }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void str(std::string_view s) { u32(static_cast<std::uint32_t>(s.size())); out += s; }
};

// reader - bounds-checked little-endian field reader; ok turns false on overrun.
struct reader {
    std::string_view in;
    bool ok = true;
    bool take(std::size_t n) { if (!ok || in.size() < n) { ok = false; return false; } return true; }
    std::uint64_t le(std::size_t n)
    {
        if (!take(n)) return 0;
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(in[i])) << (8 * i);
        in.remove_prefix(n);
        return v;
    }
    std::uint8_t u8() { return static_cast<std::uint8_t>(le(1)); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(le(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
    std::int64_t i64() { return static_cast<std::int64_t>(le(8)); }
    std::string str()
    {
        std::uint32_t n = u32();
        if (!take(n)) return {};
        std::string s(in.substr(0, n));
        in.remove_prefix(n);
        return s;
    }
    bool boolean() { std::uint8_t b = u8(); if (b > 1) ok = false; return b == 1; }
};

// frame - wrap a payload as one record.
std::string frame(record_type type, std::string_view payload)
{
    writer w;
    w.u8(static_cast<std::uint8_t>(type));
    w.u32(static_cast<std::uint32_t>(payload.size()));
    w.out += payload;
    w.u32(crc32(w.out));
    return std::move(w.out);
}

// raw_record - one framed record as read back.
struct raw_record {
    record_type type{};
    std::string_view payload;
};

enum class frame_status { ok, truncated, bad_crc, too_large };

// next_frame - split one record off the front of in.
frame_status next_frame(std::string_view& in, raw_record& rec)
{
    if (in.size() < frame_overhead) return frame_status::truncated;
    reader r{in.substr(0, 5)};
    auto type = r.u8();
    std::uint32_t len = r.u32();
    if (len > max_record_octets) return frame_status::too_large;
    if (in.size() < frame_overhead + len) return frame_status::truncated;
    reader c{in.substr(5 + len, 4)};
    if (crc32(in.substr(0, 5 + len)) != c.u32()) return frame_status::bad_crc;
    rec.type = static_cast<record_type>(type);
    rec.payload = in.substr(5, len);
    in.remove_prefix(frame_overhead + len);
    return frame_status::ok;
}

// decode_envelope_payload - the fields of an envelope record.
bool decode_envelope_payload(std::string_view p, std::uint16_t version, envelope& e)
{
    reader r{p};
    e.queue_id = r.str();
    e.sender = r.str();
    std::uint32_t n = r.u32();
    if (!r.ok || n == 0 || n > max_recipients) return false;
    for (std::uint32_t i = 0; i < n && r.ok; ++i) {
        stored_recipient s;
        s.address = r.str();
        s.orcpt = r.str();
        s.notify = r.u8();
        e.recipients.push_back(std::move(s));
    }
    e.arrival_us = r.i64();
    e.message_size = r.le(8);
    e.message_crc = r.u32();
    e.client = r.str();
    e.helo = r.str();
    e.protocol = r.str();
    e.envid = r.str();
    e.body_8bit = r.boolean();
    e.smtputf8 = r.boolean();
    e.ret_full = r.boolean();
    e.is_bounce = r.boolean();
    if (version >= 2) e.is_double_bounce = r.boolean();
    if (version >= 3) e.verp_delimiters = r.str();
    return r.ok && r.in.empty();
}

// decode_outcome_payload - the fields of an outcome record.
bool decode_outcome_payload(std::string_view p, outcome& o)
{
    reader r{p};
    o.recipient = r.u32();
    auto kind = r.u8();
    o.at_us = r.i64();
    o.next_attempt_us = r.i64();
    o.attempts = r.u32();
    o.status = r.str();
    o.reason = r.str();
    if (kind < 1 || kind > 3) return false;
    o.kind = static_cast<outcome_kind>(kind);
    return r.ok && r.in.empty();
}

}  // namespace

std::uint32_t crc32(std::string_view data, std::uint32_t crc) noexcept
{
    // Slicing-by-8: eight octets per step instead of one (a 4 KiB message's CRC was a
    // tenth of the daemon's user-space instructions per message in bench S1).
    const auto& t = crc_tables;
    auto p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
    crc = ~crc;
    auto le32 = [](const unsigned char* q) {
        return std::uint32_t{q[0]} | std::uint32_t{q[1]} << 8 | std::uint32_t{q[2]} << 16 | std::uint32_t{q[3]} << 24;
    };
    for (; n >= 8; p += 8, n -= 8) {
        const std::uint32_t lo = le32(p) ^ crc, hi = le32(p + 4);
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
              t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    }
    for (; n > 0; ++p, --n) crc = t[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
    return ~crc;
}

namespace {

constexpr std::uint32_t crc_poly = 0xEDB88320u;  // reflected

// multmodp - a times b modulo the CRC polynomial (bit-reflected: bit 31 is x^0).
constexpr std::uint32_t multmodp(std::uint32_t a, std::uint32_t b) noexcept
{
    std::uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ crc_poly : b >> 1;
    }
    return p;
}

// x2n_table - x^(2^n) modulo the polynomial, n = 0..31.
constexpr std::array<std::uint32_t, 32> x2n_table = [] {
    std::array<std::uint32_t, 32> t{};
    std::uint32_t p = 1u << 30;  // x^1
    t[0] = p;
    for (std::size_t n = 1; n < 32; ++n) t[n] = p = multmodp(p, p);
    return t;
}();

}  // namespace

std::uint32_t crc32_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t len_b) noexcept
{
    // x^(8·len_b): the product of x^(2^k) over the bits k of len_b·8.
    std::uint32_t p = 1u << 31;  // x^0
    unsigned k = 3;
    for (std::uint64_t n = len_b; n; n >>= 1, ++k)
        if (n & 1) p = multmodp(x2n_table[k & 31], p);
    return multmodp(p, crc_a) ^ crc_b;
}

std::string envelope_payload(const envelope& e)
{
    writer w;
    w.str(e.queue_id);
    w.str(e.sender);
    w.u32(static_cast<std::uint32_t>(e.recipients.size()));
    for (const auto& r : e.recipients) {
        w.str(r.address);
        w.str(r.orcpt);
        w.u8(r.notify);
    }
    w.i64(e.arrival_us);
    w.u64(e.message_size);
    w.u32(e.message_crc);
    w.str(e.client);
    w.str(e.helo);
    w.str(e.protocol);
    w.str(e.envid);
    w.u8(e.body_8bit);
    w.u8(e.smtputf8);
    w.u8(e.ret_full);
    w.u8(e.is_bounce);
    w.u8(e.is_double_bounce);
    w.str(e.verp_delimiters);
    return std::move(w.out);
}

std::string encode_envelope(const envelope& e)
{
    writer h;
    h.u32(magic);
    h.u16(format_version);
    return frame(record_type::header, h.out) + frame(record_type::envelope, envelope_payload(e));
}

std::string outcome_payload(const outcome& o)
{
    writer w;
    w.u32(o.recipient);
    w.u8(static_cast<std::uint8_t>(o.kind));
    w.i64(o.at_us);
    w.i64(o.next_attempt_us);
    w.u32(o.attempts);
    w.str(o.status);
    w.str(o.reason);
    return std::move(w.out);
}

std::string encode_outcome(const outcome& o)
{
    return frame(record_type::outcome, outcome_payload(o));
}

std::string frame_record(std::uint8_t type, std::string_view payload)
{
    return frame(static_cast<record_type>(type), payload);
}

bool parse_envelope_payload(std::string_view p, envelope& e)
{
    return decode_envelope_payload(p, format_version, e);
}

bool parse_outcome_payload(std::string_view p, outcome& o)
{
    return decode_outcome_payload(p, o);
}

decode_result decode_env_file(std::string_view bytes)
{
    decode_result res;
    auto fail = [&](std::size_t at, std::string what) {
        res.error = decode_error{at, std::move(what)};
        return std::move(res);
    };
    std::string_view in = bytes;
    raw_record rec;
    if (next_frame(in, rec) != frame_status::ok || rec.type != record_type::header)
        return fail(0, "missing or damaged header record");
    reader h{rec.payload};
    std::uint32_t m = h.u32();
    std::uint16_t version = h.u16();
    if (!h.ok || m != magic) return fail(0, "bad magic");
    if (version < oldest_format_version || version > format_version) return fail(0, "unsupported format version " + std::to_string(version));
    std::size_t at = bytes.size() - in.size();
    env_file f;
    if (next_frame(in, rec) != frame_status::ok || rec.type != record_type::envelope)
        return fail(at, "missing or damaged envelope record");
    if (!decode_envelope_payload(rec.payload, version, f.env)) return fail(at, "malformed envelope record");
    while (!in.empty()) {
        at = bytes.size() - in.size();
        auto st = next_frame(in, rec);
        if (st == frame_status::truncated) { f.torn_tail = true; break; }
        if (st == frame_status::bad_crc) {
            // Damage confined to the last record is a torn append; anywhere else it is corruption.
            reader l{in.substr(1, 4)};
            if (frame_overhead + l.u32() == in.size()) { f.torn_tail = true; break; }
        }
        if (st != frame_status::ok) return fail(at, "damaged journal record");
        if (rec.type != record_type::outcome) return fail(at, "unexpected record type");
        outcome o;
        if (!decode_outcome_payload(rec.payload, o) || o.recipient >= f.env.recipients.size())
            return fail(at, "malformed journal record");
        f.journal.push_back(std::move(o));
    }
    res.file = std::move(f);
    return res;
}

}  // namespace postrider::queue
