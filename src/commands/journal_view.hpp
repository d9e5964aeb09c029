// commands/journal_view.hpp: the queue tools' read-only view of the write-ahead journal.
//
// Owns: finding the messages that live only in queue_dir/journal/ segments (taken in and
//       not finished, or left there by a crash), for list/show/stats and for the offline
//       delete/requeue refusals. Never changes the journal: only the daemon writes it out.
// See also: queue/journal.hpp (peek), docs/queue-format.md "Journal segments".
#pragma once

#include "queue/journal.hpp"

#include <filesystem>
#include <string>

namespace postrider::commands {

// journal_messages - the live messages of queue_dir/journal, also while the daemon appends.
queue::journal_replay journal_messages(const std::filesystem::path& queue_dir);

// journal_hint - "" unless the journal holds id; then why an offline change must wait.
std::string journal_hint(const std::filesystem::path& queue_dir, const std::string& id);

}  // namespace postrider::commands
