// queue/manager_program.cpp: program delivery ("|command" forward targets) for the manager.
//
// The program runs on program_worker_, a thread pool of its own: run_program() blocks for as
// long as the program runs (up to program_timeout), and must hold neither a maildir stager
// nor the io_context meanwhile. See local/program_runner.hpp, docs/addressing.md.
#include "core/escape.hpp"
#include "local/command_line.hpp"
#include "local/expansion.hpp"
#include "local/header_scan.hpp"
#include "local/maildir.hpp"
#include "local/program_address.hpp"
#include "log/log.hpp"
#include "queue/manager.hpp"

namespace postrider::queue {

local::program_context manager::program_context_for(const std::string& sender, const std::string& address,
                                                    const local::expansion& ex) const
{
    local::program_context c;
    const auto at = address.rfind('@');
    c.sender = sender;
    c.recipient = address;
    c.local = address.substr(0, at);
    c.host = at == std::string::npos ? std::string{} : address.substr(at + 1);
    auto e = local::extension_of(c.local, table_.recipient_delimiter(), ex.source);
    c.ext = std::move(e.ext);
    c.default_part = std::move(e.matched);
    // Program lines come only from forward files, which live in the user's directory.
    c.home = std::filesystem::absolute(s_.mail_root / ex.user_dir);
    return c;
}

boost::asio::awaitable<manager::attempt_result> manager::deliver_program(std::string id, std::string sender,
                                                                         std::string address, std::string command,
                                                                         local::program_context ctx)
{
    attempt_result r;
    r.relay = "local";
    auto argv = local::split_command(command);
    if (!argv) {
        r.kind = outcome_kind::deferred;
        r.status = "4.3.0";
        r.reason = "unusable program line in forward file: " + argv.error;
        co_return r;
    }
    if (!program_worker_)  // on the strand: no race
        program_worker_ = std::make_unique<disk_worker>(fs_, std::vector<std::filesystem::path>{}, false,
                                                        std::max<std::size_t>(1, s_.local_concurrency));
    local::program_spec spec;
    spec.argv = std::move(argv.argv);
    spec.env = local::program_environment(ctx);
    spec.cwd = ctx.home;
    spec.timeout = s_.program_timeout;
    spec.output_limit = s_.program_output_limit;
    store& st = *store_;
    const local::program_canceller& cancel = program_cancel_;
    const std::size_t max_received = s_.max_received;
    std::optional<std::string> loop;
    local::program_result ran;
    std::vector<disk_worker::phase> phases;
    phases.push_back([&] {
        std::string content;
        if (auto ec = st.read_message(id, content)) return ec;
        loop = local::loop_reason(local::scan_headers(content, address), max_received);
        if (loop) return std::error_code{};
        local::to_lf_in_place(content);  // the program gets what a maildir copy holds
        ran = local::run_program(spec, local::delivery_prefix(sender, address), content, &cancel);
        return std::error_code{};
    });
    auto ec = co_await run(*program_worker_, std::move(phases), {}, false);
    if (ec) {
        r.kind = outcome_kind::deferred;
        r.status = "4.3.0";
        r.reason = "program delivery failed: " + ec.message();
        co_return r;
    }
    if (loop) {
        r.kind = outcome_kind::failed;
        r.status = "5.4.6";
        r.reason = std::move(*loop);
        co_return r;
    }
    const auto outcome = local::classify_exit(ran.end);
    r.status = outcome.status;
    r.skip_rest = outcome.stop;
    r.kind = outcome.how == local::program_outcome::kind::delivered          ? outcome_kind::delivered
             : outcome.how == local::program_outcome::kind::failed_permanent ? outcome_kind::failed
                                                                               : outcome_kind::deferred;
    r.reason = outcome.how == local::program_outcome::kind::delivered
                   ? "delivered to command: " + spec.argv.front()
                   : local::describe(spec.argv.front(), ran.end, ran.output, ran.output_truncated,
                                     s_.program_output_limit);
    co_return r;
}

}  // namespace postrider::queue
