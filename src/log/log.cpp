#include "log/log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <cerrno>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "core/log_format.hpp"

namespace postrider::log {
namespace {

std::atomic<int> threshold{static_cast<int>(level::info)};
std::atomic<bool> json{false};
std::shared_ptr<spdlog::logger> sink_logger;

std::optional<level> parse_level(const std::string& s)
{
    if (s == "debug") return level::debug;
    if (s == "info") return level::info;
    if (s == "warn" || s == "warning") return level::warn;
    if (s == "error") return level::error;
    return std::nullopt;
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

int syslog_priority(spdlog::level::level_enum l)
{
    switch (l) {
    case spdlog::level::debug: case spdlog::level::trace: return 7;
    case spdlog::level::info: return 6;
    case spdlog::level::warn: return 4;
    default: return 3;
    }
}

// journal_sink - one journal entry per event: MESSAGE, PRIORITY, and the queue or session id
//                as POSTRIDER_ID so `journalctl POSTRIDER_ID=…` follows one message.
class journal_sink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        std::string_view text(msg.payload.data(), msg.payload.size());
        auto id = core::event_id(text);
        // sd_journal_send copies the fields; %.*s keeps an unterminated view safe.
        sd_journal_send("MESSAGE=%.*s", static_cast<int>(text.size()), text.data(), "PRIORITY=%d",
                        syslog_priority(msg.level), "SYSLOG_IDENTIFIER=postrider", "POSTRIDER_ID=%.*s",
                        static_cast<int>(id.size()), id.data(), nullptr);
    }
    void flush_() override {}
};

// stderr_sink - lines written to fd 2 once per burst, without a logger thread. With an event
//               loop attached, the first line of a burst posts one flush to the loop, which runs
//               after the handlers already queued and before the loop waits again: the 5 lines
//               of a message in bench S1 cost one write(2), not five. Without a loop (start-up,
//               the tools, shutdown) each line is written at once. (A logger thread cost a futex
//               wake-up and a context switch per line, more than the write.)
class stderr_sink final : public spdlog::sinks::base_sink<std::mutex>,
                          public std::enable_shared_from_this<stderr_sink> {
public:
    void attach(std::function<void(std::function<void()>)> post)
    {
        std::lock_guard lock(mutex_);
        post_ = std::move(post);
    }
    void detach()
    {
        std::lock_guard lock(mutex_);
        post_ = nullptr;
        write_out();
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        formatter_->format(msg, buf_);
        if (!post_ || buf_.size() >= 64 * 1024) {
            write_out();
        } else if (!flush_posted_) {
            flush_posted_ = true;
            post_([self = shared_from_this()] { self->flush(); });
        }
    }
    void flush_() override { write_out(); }

private:
    void write_out()
    {
        flush_posted_ = false;
        std::string_view rest(buf_.data(), buf_.size());
        while (!rest.empty()) {
            ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;  // stderr gone: nowhere left to report it
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
        buf_.clear();
    }

    std::function<void(std::function<void()>)> post_;
    bool flush_posted_ = false;
    spdlog::memory_buf_t buf_;
};

std::shared_ptr<stderr_sink> stderr_out;  // set when log_target = stderr

}  // namespace

void init(const settings& s)
{
    auto l = parse_level(s.level);
    if (!l) throw std::invalid_argument("log_level must be debug, info, warn or error, not '" + s.level + "'");
    threshold = static_cast<int>(*l);
    if (s.format != "text" && s.format != "json")
        throw std::invalid_argument("log_format must be text or json, not '" + s.format + "'");
    if (s.target != "stderr" && s.target != "journal")
        throw std::invalid_argument("log_target must be stderr or journal, not '" + s.target + "'");
    json = s.format == "json" && s.target == "stderr";
    spdlog::sink_ptr sink;
    if (s.target == "journal")
        sink = std::make_shared<journal_sink>();
    else
        sink = stderr_out = std::make_shared<stderr_sink>();
    sink_logger = std::make_shared<spdlog::logger>("postrider", sink);
    // emit() hands over the line already escaped: JSON fields, or the capped text line.
    if (json)
        sink_logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
    else  // the pid written in, not %P: spdlog's %P calls getpid(2) for every line (we never fork)
        sink_logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ postrider[" + std::to_string(::getpid()) + "] %l: %v",
                                 spdlog::pattern_time_type::utc);
    sink_logger->set_level(spdlog::level::debug);
    // No flush_on: the journal sink sends each line, the stderr sink writes per line or per burst.
}

bool set_level(const std::string& name)
{
    auto l = parse_level(name);
    if (!l) return false;
    threshold = static_cast<int>(*l);
    return true;
}

void attach_loop(std::function<void(std::function<void()>)> post)
{
    if (stderr_out) stderr_out->attach(std::move(post));
}

void detach_loop()
{
    if (stderr_out) stderr_out->detach();
}

void shutdown()
{
    detach_loop();
    stderr_out.reset();
    sink_logger.reset();
    spdlog::shutdown();
}

bool enabled(level l) noexcept
{
    return static_cast<int>(l) >= threshold.load(std::memory_order_relaxed);
}

void emit(level l, std::string_view line)
{
    auto capped = core::cap_line(line);
    if (!sink_logger)
        fmt::print(stderr, "postrider: {}\n", capped);  // before init (start-up errors)
    else if (json.load(std::memory_order_relaxed))
        sink_logger->log(to_spdlog(l), "{}", core::json_fields(capped));
    else
        sink_logger->log(to_spdlog(l), "{}", capped);
}

}  // namespace postrider::log
