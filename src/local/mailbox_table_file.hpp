// local/mailbox_table_file.hpp: load the mailbox table from a file (start-up, blocking I/O).
//
// Owns: reading the table file and turning parse errors into one start-up error.
// Trust: the file is admin-owned; its text goes through parse_mailbox_table().
// See also: mailbox_table.hpp (format), docs/queue-format.md.
#pragma once

#include "local/mailbox_table.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace postrider::local {

class alias_table;

// load_mailbox_table - read and parse path; throws std::runtime_error listing
//                      "path:line: message" for every bad line (start-up only).
mailbox_table load_mailbox_table(const std::filesystem::path& path,
                                 const std::vector<std::string>& local_domains);

// load_alias_table - read and parse the alias table; throws like load_mailbox_table.
std::shared_ptr<const alias_table> load_alias_table(const std::filesystem::path& path);

}  // namespace postrider::local
