// tests/fuzz/fuzz_data_decoder.cpp: libFuzzer target for the DATA and BDAT decoders.
// Differential: decoding in one piece and in fuzzer-chosen pieces must agree;
// the stored data is CRLF-clean; end-of-data is never found without a real CRLF.CRLF.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/chunk_decoder.hpp"
#include "smtp/data_decoder.hpp"

using namespace postrider;

namespace {

struct result {
    bool done = false;
    std::size_t rest = 0;
    std::string data;
};

// run_data - decode in pieces of `step` octets (0 = one piece).
result run_data(std::string_view in, std::size_t step, std::uint64_t limit)
{
    smtp::data_decoder d;
    smtp::message_sink sink;
    sink.reset(limit);
    d.start(true);
    result r;
    while (!in.empty() && !r.done) {
        auto piece = in.substr(0, step ? step : in.size());
        const auto n = piece.size();
        r.done = d.consume(piece, sink);
        in.remove_prefix(n - piece.size());
    }
    r.rest = in.size();
    r.data = sink.overflow() ? "<overflow>" : sink.take();
    return r;
}

// run_chunks - BDAT normalisation in pieces of `step` octets.
std::string run_chunks(std::string_view in, std::size_t step)
{
    smtp::chunk_decoder c;
    smtp::message_sink sink;
    sink.reset(UINT64_MAX);
    for (; !in.empty(); in.remove_prefix(std::min(in.size(), step)))
        c.consume(in.substr(0, step), sink);
    c.finish(sink);
    return sink.take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::size_t step = 1 + data[0] % 16;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto whole = run_data(in, 0, 1 << 20);
    const auto pieces = run_data(in, step, 1 << 20);
    fuzz::require(whole.done == pieces.done && whole.rest == pieces.rest && whole.data == pieces.data,
                  "DATA decoding does not depend on chunking");
    if (whole.done) {
        fuzz::require(fuzz::crlf_clean(whole.data), "DATA result is CRLF-clean");
        const auto consumed = in.substr(0, in.size() - whole.rest);
        fuzz::require(consumed.size() >= 3 && consumed.substr(consumed.size() - 3) == ".\r\n" &&
                          (consumed.size() == 3 || consumed.substr(consumed.size() - 5, 2) == "\r\n"),
                      "end of data only after CRLF.CRLF");
    }
    const auto a = run_chunks(in, in.size() + 1);
    fuzz::require(a == run_chunks(in, step), "BDAT decoding does not depend on chunking");
    fuzz::require(fuzz::crlf_clean(a), "BDAT result is CRLF-clean");
    return 0;
}
