// local/mailbox_table_file.cpp: file reading for the mailbox and alias tables (parsers stay pure).
#include "local/mailbox_table_file.hpp"

#include "local/alias_table.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace postrider::local {
namespace {

// read_table - the whole file; throws when it cannot be read.
std::string read_table(const std::filesystem::path& path, const char* what)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::string("cannot read ") + what + " " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// throw_errors - one exception listing "path:line: message" per error.
void throw_errors(const std::filesystem::path& path, const std::vector<table_error>& errors)
{
    if (errors.empty()) return;
    std::string msg;
    for (const auto& e : errors) msg += path.string() + ":" + std::to_string(e.line) + ": " + e.message + "\n";
    throw std::runtime_error(msg);
}

}  // namespace

mailbox_table load_mailbox_table(const std::filesystem::path& path,
                                 const std::vector<std::string>& local_domains)
{
    auto r = parse_mailbox_table(read_table(path, "mailbox table"), local_domains);
    throw_errors(path, r.errors);
    return std::move(r.table);
}

std::shared_ptr<const alias_table> load_alias_table(const std::filesystem::path& path)
{
    auto r = parse_alias_table(read_table(path, "alias table"));
    throw_errors(path, r.errors);
    return std::make_shared<const alias_table>(std::move(r.table));
}

}  // namespace postrider::local
