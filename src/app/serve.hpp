// app/serve.hpp: the daemon: wiring of queue, listeners and signals (composition root).
//
// Owns: start-up order, signal handling, graceful stop, SIGHUP reload (app/reload.hpp).
// Trust: runs with whatever privileges it was started with; privilege drop
//        arrives with the security work (issue 6) and belongs here.
#pragma once

#include <functional>

#include "app/options.hpp"
#include "config/settings.hpp"

namespace postrider::app {

// serve - run the daemon in the foreground until SIGTERM/SIGINT; returns the exit code.
//         load reads the configuration again, the same way, for SIGHUP.
int serve(const config::settings& settings, const std::function<loaded_options()>& load);

}  // namespace postrider::app
