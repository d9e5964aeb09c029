// app/options.hpp: configuration from file, environment and command line.
//
// Owns: the only use of Boost.Program_options; precedence flags > POSTRIDER_*
//       environment > config file > built-in defaults (config/settings.hpp).
// Trust: admin input; every mistake is reported with the option's name.
#pragma once

#include <string>
#include <vector>

#include "config/settings.hpp"

namespace postrider::app {

struct loaded_options {
    config::settings settings;
    std::string config_file;          // empty when none was given
    std::vector<std::string> errors;  // empty means usable
    bool help = false;
    std::string help_text;
};

// load_options - parse args (after the subcommand), the environment and the config file.
loaded_options load_options(const std::vector<std::string>& args);

}  // namespace postrider::app
