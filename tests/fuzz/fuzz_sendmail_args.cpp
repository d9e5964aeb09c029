// tests/fuzz/fuzz_sendmail_args.cpp: libFuzzer target for sendmail(1)'s argument parser.
//
// Trust: argv is a local user's (or a program's acting for one): it reaches the
//        parser before any privilege question is asked (postrider-postdrop runs later).
// Input: NUL-separated words; the first byte picks argv[0] (sendmail, mailq, newaliases).
// Checks: exactly one of options and error; the error is one line; VERP delimiters,
//         NOTIFY bits and the mode are always ones the rest of the code accepts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/verp.hpp"
#include "fuzz_check.hpp"
#include "sendmail/args.hpp"

using namespace postrider;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    static const char* const names[] = {"sendmail", "mailq", "newaliases"};
    const std::string_view invoked_as = names[data[0] % 3];
    std::vector<std::string> args;
    std::string word;
    for (std::size_t i = 1; i < size; ++i) {
        if (data[i] == 0) {
            args.push_back(std::move(word));
            word.clear();
        } else {
            word += static_cast<char>(data[i]);
        }
    }
    if (size > 1) args.push_back(std::move(word));
    auto r = sendmail::parse_args(args, invoked_as);
    fuzz::require(r.opts.has_value() == r.error.empty(), "exactly one of options and error");
    if (!r.opts) {
        fuzz::require(r.error.find('\n') == std::string::npos, "the error is one line");
        return 0;
    }
    const auto& o = *r.opts;
    fuzz::require(o.verp_delimiters.empty() || core::valid_verp_delimiters(o.verp_delimiters), "VERP delimiters");
    fuzz::require(o.verp || o.verp_delimiters.empty(), "delimiters only with VERP");
    fuzz::require(o.notify <= 15, "NOTIFY bits");
    fuzz::require(!(o.notify & sendmail::notify_never) || o.notify == sendmail::notify_never, "NEVER stands alone");
    fuzz::require(o.recipients.size() <= args.size(), "recipients come from argv");
    return 0;
}
