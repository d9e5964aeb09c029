// app/serve.hpp: the daemon: wiring of queue, listeners and signals (composition root).
//
// Owns: start-up order, signal handling, graceful stop.
// Trust: runs with whatever privileges it was started with; privilege drop
//        arrives with the security work (issue 6) and belongs here.
#pragma once

#include "config/settings.hpp"

namespace postrider::app {

// serve - run the daemon in the foreground until SIGTERM/SIGINT; returns the exit code.
int serve(const config::settings& settings);

}  // namespace postrider::app
