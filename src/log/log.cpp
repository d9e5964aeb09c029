#include "log/log.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <stdexcept>

namespace postrider::log {
namespace {

std::atomic<int> threshold{static_cast<int>(level::info)};
std::shared_ptr<spdlog::logger> sink_logger;

level parse_level(const std::string& s)
{
    if (s == "debug") return level::debug;
    if (s == "info") return level::info;
    if (s == "warn" || s == "warning") return level::warn;
    if (s == "error") return level::error;
    throw std::invalid_argument("log_level must be debug, info, warn or error, not '" + s + "'");
}

spdlog::level::level_enum to_spdlog(level l)
{
    switch (l) {
    case level::debug: return spdlog::level::debug;
    case level::info: return spdlog::level::info;
    case level::warn: return spdlog::level::warn;
    case level::error: return spdlog::level::err;
    }
    return spdlog::level::err;
}

}  // namespace

void init(const settings& s)
{
    threshold = static_cast<int>(parse_level(s.level));
    if (s.format != "text" && s.format != "json")
        throw std::invalid_argument("log_format must be text or json, not '" + s.format + "'");
    // Blocking overflow: losing a log line silently is worse for an admin than
    // a brief stall; the queue is large enough that a healthy stderr never fills it.
    spdlog::init_thread_pool(16384, 1);
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink_logger = std::make_shared<spdlog::async_logger>("postrider", sink, spdlog::thread_pool(),
                                                         spdlog::async_overflow_policy::block);
    // Messages are escaped by the caller; %v is inserted verbatim.
    if (s.format == "json")
        sink_logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})",
                                 spdlog::pattern_time_type::utc);
    else
        sink_logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ postrider[%P] %l: %v",
                                 spdlog::pattern_time_type::utc);
    sink_logger->set_level(spdlog::level::debug);
    sink_logger->flush_on(spdlog::level::debug);
}

void shutdown()
{
    sink_logger.reset();
    spdlog::shutdown();
}

bool enabled(level l) noexcept
{
    return static_cast<int>(l) >= threshold.load(std::memory_order_relaxed);
}

void emit(level l, std::string_view line)
{
    if (sink_logger)
        sink_logger->log(to_spdlog(l), "{}", line);
    else
        fmt::print(stderr, "postrider: {}\n", line);  // before init (start-up errors)
}

}  // namespace postrider::log
