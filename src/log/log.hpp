// log/log.hpp: one-line-per-event logging, the only door to spdlog.
//
// Owns: the process logger (set up once in app), level filtering, line format.
// Trust: callers must pass untrusted text through core::escape() first; this
//        module does not know which fields came from the network.
// See also: docs/configuration.md (log_format, log_level, log_target),
//           core/log_format.hpp (JSON escaping, line cap).
//
// Only log.cpp includes spdlog; everything else formats with fmt and calls
// emit(), which keeps spdlog's heavy headers out of most translation units.
#pragma once

#include <fmt/format.h>

#include <functional>

#include <string>
#include <string_view>
#include <utility>

namespace postrider::log {

enum class level { debug, info, warn, error };

struct settings {
    std::string format = "text";  // text | json
    std::string level = "info";   // debug | info | warn | error
    std::string target = "stderr";  // stderr | journal (sd_journal_send, structured fields)
};

// init - set up the logger (each line written by the thread that logs it); call once,
//        before any thread starts.
void init(const settings& s);
// attach_loop - stderr lines are then written once per burst: the first line of one posts a
//               flush through post (an event loop's post), so the loop writes them all before
//               it waits again. detach_loop writes what is waiting and goes back to a write per
//               line; call it before the loop is destroyed (serve does, on every return).
void attach_loop(std::function<void(std::function<void()>)> post);
void detach_loop();
// set_level - change the threshold while running (SIGHUP reload); false on a bad name.
bool set_level(const std::string& name);
// shutdown - drop the logger; every line emitted so far has been written already.
void shutdown();
// enabled - whether a line at this level would be written.
bool enabled(level l) noexcept;
// emit - write one event line (no trailing newline); capped at limits::log_line_octets.
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
