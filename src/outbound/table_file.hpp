// outbound/table_file.hpp: load the admin's per-domain tables from files (start-up, blocking I/O).
//
// Owns: reading the transport and TLS policy table files; parse errors become
//       "path:line: message" strings.
// Trust: the files are admin-owned; their text goes through the pure parsers.
// See also: transport_table.hpp, tls_policy.hpp (formats), docs/configuration.md.
#pragma once

#include "outbound/tls_policy.hpp"
#include "outbound/transport_table.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace postrider::outbound {

// load_transport_table - read and parse path; on failure the table is empty and errors
//                        lists "path:line: message" for every bad line (or why the file
//                        could not be read). For check-config and start-up.
transport_table load_transport_table(const std::filesystem::path& path, std::uint16_t default_port,
                                     std::vector<std::string>& errors);

// load_tls_policy_table - the same for tls_policy_table.
tls_policy_table load_tls_policy_table(const std::filesystem::path& path, std::vector<std::string>& errors);

}  // namespace postrider::outbound
