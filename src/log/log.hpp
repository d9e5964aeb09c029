// log/log.hpp: one-line-per-event logging, the only door to spdlog.
//
// Owns: the process logger (set up once in app), level filtering, line format.
// Trust: callers must pass untrusted text through core::escape() first; this
//        module does not know which fields came from the network.
// See also: docs/configuration.md (log_format, log_level).
//
// Only log.cpp includes spdlog; everything else formats with fmt and calls
// emit(), which keeps spdlog's heavy headers out of most translation units.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

namespace postrider::log {

enum class level { debug, info, warn, error };

struct settings {
    std::string format = "text";  // text | json
    std::string level = "info";   // debug | info | warn | error
};

// init - start the asynchronous logger; call once, before any thread starts.
void init(const settings& s);
// shutdown - drain and stop the logger; every line emitted so far is written.
void shutdown();
// enabled - whether a line at this level would be written.
bool enabled(level l) noexcept;
// emit - write one event line (no trailing newline).
void emit(level l, std::string_view line);

template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::debug)) emit(level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::info)) emit(level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::warn)) emit(level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::error)) emit(level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace postrider::log
