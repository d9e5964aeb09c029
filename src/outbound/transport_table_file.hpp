// outbound/transport_table_file.hpp: load the transport table from a file (start-up, blocking I/O).
//
// Owns: reading the table file; parse errors become "path:line: message" strings.
// Trust: the file is admin-owned; its text goes through parse_transport_table().
// See also: transport_table.hpp (format), docs/configuration.md (transport_table).
#pragma once

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

}  // namespace postrider::outbound
