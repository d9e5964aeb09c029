// tests/fuzz/replay_main.cpp: replays a fuzz target's seed corpus without libFuzzer.
//
// Linked with a target's LLVMFuzzerTestOneInput in the normal (g++) build, so the
// unit suite checks every seed against the target's invariants without clang.
// A broken invariant aborts (fuzz_check.hpp), which fails the test. An empty or
// missing corpus fails too: a replay that ran nothing proves nothing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv)
{
    std::size_t replayed = 0;
    for (int i = 1; i < argc; ++i) {
        std::error_code ec;
        std::vector<std::filesystem::path> files;
        for (const auto& e : std::filesystem::recursive_directory_iterator(argv[i], ec))
            if (e.is_regular_file()) files.push_back(e.path());
        if (ec) {
            std::fprintf(stderr, "cannot read corpus %s: %s\n", argv[i], ec.message().c_str());
            return 1;
        }
        for (const auto& f : files) {
            std::ifstream in(f, std::ios::binary);
            const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            // Copied into an exact-size buffer so ASan sees reads past the end, as under libFuzzer.
            std::vector<std::uint8_t> buf(bytes.begin(), bytes.end());
            LLVMFuzzerTestOneInput(buf.data(), buf.size());
            ++replayed;
        }
    }
    std::printf("%zu corpus inputs replayed\n", replayed);
    if (replayed == 0) {
        std::printf("0 passed, 1 failed\n");
        return 1;
    }
    std::printf("%zu passed, 0 failed\n", replayed);
    return 0;
}
