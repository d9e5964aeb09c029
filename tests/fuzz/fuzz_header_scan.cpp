// tests/fuzz/fuzz_header_scan.cpp: libFuzzer target for local::scan_headers (loop detection).
// The input is "address\nmessage": the first line is the Delivered-To address looked for.
// Invariants: nothing after the header section changes the answer (a body line is never
// a header); a match needs a Delivered-To field name in the input; the Received count is
// at most the number of lines.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "local/header_scan.hpp"

using namespace postrider;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto nl = in.find('\n');
    const auto address = in.substr(0, nl);
    const auto message = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    const auto f = local::scan_headers(message, address);
    const auto lines = static_cast<std::size_t>(std::count(message.begin(), message.end(), '\n')) + 1;
    fuzz::require(f.received <= lines, "at most one Received per line");
    if (f.delivered_to_match) {
        std::string low(message);
        for (auto& c : low) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        fuzz::require(low.find("delivered-to:") != std::string::npos, "a match needs a Delivered-To field");
    }
    const std::string with_body = std::string(message) + "\n\nReceived: body\nDelivered-To: " +
                                  std::string(address) + "\n";
    const auto g = local::scan_headers(with_body, address);
    fuzz::require(g.received == f.received && g.delivered_to_match == f.delivered_to_match,
                  "the body never changes the answer");
    return 0;
}
