// outbound/secret_file.hpp: read a password from a file (start-up, blocking I/O).
//
// Owns: reading relayhost_password_file: its first line, without the line end.
// Trust: admin-owned file holding a SECRET. A file that other users may read
//        is refused (the password would already be exposed); the value is
//        never logged, and is checked with valid_credential() (no NUL/CR/LF).
// See also: sasl.hpp (where the secret goes), docs/configuration.md.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace postrider::outbound {

// read_secret_file - the first line of path; nullopt and error set when the file cannot be
//                    read, is readable by others, or the line is empty or has NUL/CR.
std::optional<std::string> read_secret_file(const std::filesystem::path& path, std::string& error);

}  // namespace postrider::outbound
