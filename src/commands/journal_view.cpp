// commands/journal_view.cpp: see journal_view.hpp.
#include "commands/journal_view.hpp"

#include "local/fs_ops.hpp"

namespace postrider::commands {

queue::journal_replay journal_messages(const std::filesystem::path& queue_dir)
{
    return queue::journal::peek(local::posix(), queue_dir / "journal");
}

std::string journal_hint(const std::filesystem::path& queue_dir, const std::string& id)
{
    if (!journal_messages(queue_dir).live.count(id)) return {};
    // Only the daemon writes the journal; a stopped one writes it out as queue files at start.
    return "held in the journal of the stopped daemon; start it once (it writes the journal out "
           "as queue files), then retry";
}

}  // namespace postrider::commands
