// tests/fuzz/fuzz_sasl.cpp: libFuzzer target for core::base64_decode and smtp::sasl_exchange.
// Byte 0 picks the mechanism and whether the first line is an initial response;
// the rest are client lines separated by LF. Invariants: decoding is canonical
// (decode then encode gives the input back); an exchange ends in at most three
// steps for LOGIN and two for PLAIN; finished credentials have no NUL, CR or LF.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base64.hpp"
#include "fuzz_check.hpp"
#include "smtp/sasl_server.hpp"

using namespace postrider;

namespace {

bool clean(std::string_view s)
{
    return s.find_first_of(std::string_view("\0\r\n", 3)) == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (auto d = core::base64_decode(in))
        fuzz::require(core::base64_encode(*d) == in, "base64 decoding is canonical");

    smtp::sasl_exchange x(data[0] & 1 ? smtp::sasl_mechanism::login : smtp::sasl_mechanism::plain);
    const auto next_line = [&in]() {
        const auto nl = in.find('\n');
        const auto line = in.substr(0, nl);
        in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
        return line;
    };
    auto step = data[0] & 2 ? x.start(next_line()) : x.start(std::nullopt);
    int rounds = 1;
    while (step.what == smtp::sasl_step::kind::challenge && !in.empty()) {
        fuzz::require(core::base64_decode(step.challenge).has_value(), "challenges are base64");
        step = x.respond(next_line());
        fuzz::require(++rounds <= 3, "an exchange ends within three steps");
    }
    if (step.what == smtp::sasl_step::kind::done) {
        const auto& c = step.credentials;
        fuzz::require(!c.authcid.empty() && !c.password.empty(), "names and passwords are not empty");
        fuzz::require(clean(c.authcid) && clean(c.password) && clean(c.authzid), "no NUL, CR or LF in credentials");
    }
    return 0;
}
