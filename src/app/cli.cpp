#include "app/cli.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <sysexits.h>

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/options.hpp"
#include "app/serve.hpp"
#include "app/tables.hpp"
#include "commands/commands.hpp"
#include "outbound/secret_file.hpp"
#include "log/log.hpp"

namespace postrider::app {
namespace {

constexpr std::string_view usage =
    "usage: postrider <command> [options]\n"
    "commands:\n"
    "  serve          run the MTA daemon in the foreground\n"
    "  check-config   validate the configuration and exit (0 when valid)\n"
    "  version        print the version\n"
    "  sendmail       sendmail(1)-compatible injection (also as argv[0] sendmail, mailq, newaliases)\n"
    "  queue          list, show, stats, flush, delete queued mail (mailq = queue list)\n"
    "Run 'postrider serve --help' for every setting.\n";

std::string basename_of(std::string_view path)
{
    auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// print_errors - one line per configuration problem, on stderr.
int print_errors(const loaded_options& o)
{
    for (const auto& e : o.errors)
        fmt::print(stderr, "postrider: {}{}\n", o.config_file.empty() ? "" : o.config_file + ": ", e);
    return EX_CONFIG;
}

int cmd_serve(const std::vector<std::string>& args)
{
    auto o = load_options(args);
    if (o.help) {
        fmt::print("{}", o.help_text);
        return EX_OK;
    }
    if (!o.errors.empty()) return print_errors(o);
    log::settings ls{o.settings.log_format, o.settings.log_level, o.settings.log_target};
    log::init(ls);
    int rc = EX_SOFTWARE;
    try {
        rc = serve(o.settings, [&args] { return load_options(args); });
    } catch (const std::exception& e) {
        log::error("fatal: {}", e.what());
        rc = EX_UNAVAILABLE;
    }
    log::shutdown();
    return rc;
}

int cmd_check_config(const std::vector<std::string>& args)
{
    auto o = load_options(args);
    if (o.errors.empty()) {
        // The tables as serve and SIGHUP load them ("FILE:LINE: ..." each). Secrets and
        // certificates are not opened (examples/mx-and-submission.conf names production paths).
        auto tables_only = o.settings;
        tables_only.auth_users_file.clear();
        load_tables(tables_only, o.errors);
    }
    if (o.errors.empty() && !o.settings.relayhost_password_file.empty()) {
        std::string error;
        if (!outbound::read_secret_file(o.settings.relayhost_password_file, error))
            o.errors.push_back("relayhost_password_file: " + error);
    }
    if (o.errors.empty() && !o.settings.postdrop_group.empty() && !::getgrnam(o.settings.postdrop_group.c_str()))
        o.errors.push_back("postdrop_group: no such group: " + o.settings.postdrop_group);
    if (!o.errors.empty()) return print_errors(o);
    fmt::print("postrider: configuration {}is valid\n", o.config_file.empty() ? "" : o.config_file + " ");
    return EX_OK;
}

// load_for_tools - the configuration for sendmail/mailq/queue: FILE (may be empty),
//                  the POSTRIDER_* environment and the defaults, as for serve.
std::optional<config::settings> load_for_tools(const std::string& file, std::vector<std::string>& errors)
{
    std::vector<std::string> args;
    if (!file.empty()) args = {"-c", file};
    auto o = load_options(args);
    errors = o.errors;
    if (!o.errors.empty()) return std::nullopt;
    return o.settings;
}

}  // namespace

int run_cli(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    const std::string self = argc > 0 ? basename_of(argv[0]) : "postrider";
    // argv[0] dispatch: installed as symlinks, the binary is a drop-in.
    if (self == "sendmail" || self == "mailq" || self == "newaliases")
        return commands::sendmail_main(args, self, load_for_tools);
    if (args.empty()) {
        fmt::print(stderr, "{}", usage);
        return EX_USAGE;
    }
    const std::string command = args.front();
    args.erase(args.begin());
    if (command == "serve") return cmd_serve(args);
    if (command == "check-config") return cmd_check_config(args);
    if (command == "version" || command == "--version") {
        fmt::print("postrider {}\n", POSTRIDER_VERSION);
        return EX_OK;
    }
    if (command == "sendmail") return commands::sendmail_main(args, "sendmail", load_for_tools);
    if (command == "queue") return commands::queue_main(args, load_for_tools);
    if (command == "help" || command == "--help" || command == "-h") {
        fmt::print("{}", usage);
        return EX_OK;
    }
    fmt::print(stderr, "postrider: unknown command '{}'\n{}", command, usage);
    return EX_USAGE;
}

}  // namespace postrider::app
