// local/mailbox_table_file.cpp: file reading for the mailbox table (parser stays pure).
#include "local/mailbox_table_file.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace postrider::local {

mailbox_table load_mailbox_table(const std::filesystem::path& path,
                                 const std::vector<std::string>& local_domains)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read mailbox table " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    auto r = parse_mailbox_table(text.str(), local_domains);
    if (!r.errors.empty()) {
        std::string msg;
        for (const auto& e : r.errors)
            msg += path.string() + ":" + std::to_string(e.line) + ": " + e.message + "\n";
        throw std::runtime_error(msg);
    }
    return std::move(r.table);
}

}  // namespace postrider::local
