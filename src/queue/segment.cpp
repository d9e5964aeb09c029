// queue/segment.cpp: PURE journal segment codec (see segment.hpp for the format).
#include "queue/segment.hpp"

#include "queue/queue_id.hpp"

#include <algorithm>

namespace postrider::queue {
namespace {

void put_le(std::string& out, std::uint64_t v, int n)
{
    for (int i = 0; i < n; ++i) out += static_cast<char>(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_le(std::string_view in, std::size_t at, int n)
{
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(in[at + i])) << (8 * i);
    return v;
}

void put_str(std::string& out, std::string_view s)
{
    put_le(out, s.size(), 4);
    out += s;
}

// take_str - a length-prefixed string at the front of p; false when it overruns.
bool take_str(std::string_view& p, std::string_view& s)
{
    if (p.size() < 4) return false;
    std::uint64_t n = get_le(p, 0, 4);
    if (p.size() - 4 < n) return false;
    s = p.substr(4, n);
    p.remove_prefix(4 + n);
    return true;
}

// parse - the fields of one framed record's payload; false when malformed.
bool parse(segment_record type, std::string_view p, std::uint64_t payload_at, segment_entry& e)
{
    const char* const start = p.data();
    std::string_view id;
    if (!take_str(p, id) || !is_valid_queue_id(id)) return false;
    e.queue_id = id;
    switch (type) {
    case segment_record::message: {
        std::string_view env;
        if (!take_str(p, env) || !parse_envelope_payload(env, e.env) || e.env.queue_id != id) return false;
        if (p.size() < 8) return false;
        std::uint64_t n = get_le(p, 0, 8);
        p.remove_prefix(8);
        if (p.size() != n || n != e.env.message_size || crc32(p) != e.env.message_crc) return false;
        e.content_offset = payload_at + static_cast<std::uint64_t>(p.data() - start);
        return true;
    }
    case segment_record::outcome: return parse_outcome_payload(p, e.result);
    case segment_record::done: return p.empty();
    }
    return false;
}

}  // namespace

message_frame frame_message(const envelope& env, std::string_view head, std::string_view body)
{
    message_frame f;
    f.content_size = head.size() + body.size();
    std::string payload;
    put_str(payload, env.queue_id);
    put_str(payload, envelope_payload(env));
    put_le(payload, f.content_size, 8);
    f.prefix += static_cast<char>(segment_record::message);
    put_le(f.prefix, payload.size() + f.content_size, 4);
    f.prefix += payload;
    // The content's CRC is already in the envelope: combining saves a second pass over it.
    put_le(f.suffix, crc32_combine(crc32(f.prefix), env.message_crc, f.content_size), 4);
    return f;
}

std::string encode_journal_outcome(const std::string& id, const outcome& o)
{
    std::string p;
    put_str(p, id);
    p += outcome_payload(o);
    return frame_record(static_cast<std::uint8_t>(segment_record::outcome), p);
}

std::string encode_done(const std::string& id)
{
    std::string p;
    put_str(p, id);
    return frame_record(static_cast<std::uint8_t>(segment_record::done), p);
}

segment_scan scan_segment(std::string_view bytes, bool last)
{
    segment_scan s;
    std::uint64_t at = 0;
    auto stop = [&](segment_end how, std::string what, bool final_record) {
        s.end = (last || final_record) && how != segment_end::zero_tail ? segment_end::torn_tail : how;
        s.what = std::move(what);
        return s;
    };
    while (at < bytes.size()) {
        std::string_view rest = bytes.substr(at);
        const auto type = static_cast<std::uint8_t>(rest[0]);
        if (type == 0) {
            if (std::all_of(rest.begin(), rest.end(), [](char c) { return c == 0; }))
                return stop(segment_end::zero_tail, {}, false);
            return stop(segment_end::corrupt, "zero record type followed by data", false);
        }
        if (rest.size() < record_frame_overhead) return stop(segment_end::torn_tail, "record cut short", true);
        const std::uint64_t len = get_le(rest, 1, 4);
        if (len > max_segment_record) return stop(segment_end::corrupt, "record length out of range", false);
        if (rest.size() < record_frame_overhead + len) return stop(segment_end::torn_tail, "record cut short", true);
        const bool final_record = rest.size() == record_frame_overhead + len;
        if (crc32(rest.substr(0, 5 + len)) != get_le(rest, 5 + len, 4))
            return stop(segment_end::corrupt, "record CRC mismatch", final_record);
        if (type < 4 || type > 6) return stop(segment_end::corrupt, "unknown record type", final_record);
        segment_entry e;
        e.type = static_cast<segment_record>(type);
        e.offset = at;
        if (!parse(e.type, rest.substr(5, len), at + 5, e))
            return stop(segment_end::corrupt, "malformed record", final_record);
        s.entries.push_back(std::move(e));
        at += record_frame_overhead + len;
        s.valid_bytes = at;
    }
    return s;
}

}  // namespace postrider::queue
