// tests/fuzz/fuzz_cidr.cpp: libFuzzer target for inbound::parse_cidr / parse_ip / network_list.
// The input is one mynetworks spec, or "spec peer" (split at the first space).
// Invariants: a block contains its own network address; prefix 0 contains every
// address of its family; a peer that does not parse matches nothing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "inbound/cidr.hpp"

using namespace postrider;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto sp = in.find(' ');
    const auto spec = in.substr(0, sp);
    const auto peer = sp == std::string_view::npos ? std::string_view{} : in.substr(sp + 1);
    std::string error;
    const auto block = inbound::parse_cidr(spec, error);
    fuzz::require(block.has_value() == error.empty(), "an error exactly when parsing fails");
    if (block) {
        fuzz::require(block->prefix <= (block->net.v6 ? 128u : 32u), "prefix within the family");
        fuzz::require(block->contains(block->net), "a block contains its network address");
        inbound::cidr all{block->net, 0};
        if (auto p = inbound::parse_ip(peer); p && p->v6 == block->net.v6)
            fuzz::require(all.contains(*p), "prefix 0 contains the whole family");
    }
    auto list = inbound::network_list::parse({std::string(spec)}, error);
    if (list && !inbound::parse_ip(peer))
        fuzz::require(!list->contains(peer), "an unparsable peer matches nothing");
    return 0;
}
