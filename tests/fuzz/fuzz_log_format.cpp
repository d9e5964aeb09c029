// tests/fuzz/fuzz_log_format.cpp: libFuzzer target for the log line encoders (core/log_format).
// Input: arbitrary bytes, as a peer's HELO, address or reply text could carry into a log line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/log_format.hpp"
#include "fuzz_check.hpp"
#include "smtp/address.hpp"

using namespace postrider;

// valid_json_body - s can sit between two quotes of a JSON string: no raw quote or control,
//                   every backslash starts a valid escape, and the bytes are UTF-8.
static bool valid_json_body(std::string_view s)
{
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == '"') return false;
        if (c != '\\') continue;
        if (++i == s.size()) return false;
        const char e = s[i];
        if (e == 'u') {
            if (i + 4 >= s.size()) return false;
            for (int k = 1; k <= 4; ++k) {
                const char h = s[i + k];
                if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f'))) return false;
            }
            i += 4;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
            return false;
        }
    }
    return smtp::is_valid_utf8(s);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    fuzz::require(valid_json_body(core::json_string(in)), "json_string is a valid JSON string body");

    const auto fields = core::json_fields(in);
    fuzz::require(fields.rfind("\"id\":\"", 0) == 0 || fields.rfind("\"msg\":\"", 0) == 0, "fields start");
    fuzz::require(fields.back() == '"', "fields end in a string");

    const auto v = core::logfmt_value(in, 64);
    fuzz::require(fuzz::no_controls(v), "logfmt value has no controls");
    if (v.front() != '"')
        fuzz::require(v.find_first_of(" =\"\\") == std::string::npos, "bare logfmt value has no separators");

    const auto capped = core::cap_line(in, 100);
    fuzz::require(capped.size() <= (size <= 100 ? size : 100), "cap_line bounds the line");
    if (smtp::is_valid_utf8(in)) fuzz::require(smtp::is_valid_utf8(capped), "cap_line keeps UTF-8 whole");
    return 0;
}
