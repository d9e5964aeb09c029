#include "inbound/auth_table.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace postrider::inbound {

namespace {

// A well-formed yescrypt hash of a random password: unknown users cost the same crypt_r().
constexpr const char* decoy_hash = "$y$j9T$Ds7MioNQJIQzHGcvcYxx5/$qQNbnejiHzTYTr9fuLzweGC6hY8sq9jQA84494ZTtxA";

std::vector<std::string> split_commas(std::string_view s)
{
    std::vector<std::string> out;
    std::string item;
    for (char c : std::string(s) + ",") {
        if (c == ',') {
            if (!item.empty()) out.push_back(item);
            item.clear();
        } else if (c != ' ' && c != '\t') {
            item += c;
        }
    }
    return out;
}

}  // namespace

bool password_matches(const std::string& password, const std::string& hash)
{
    auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on the coroutine's stack
    // crypt_rn is libcrypt's crypt_r with the buffer size spelt out; unlike crypt_r it is
    // not intercepted by the sanitizers, whose crypt_r interceptor crashes (null REAL) here.
    const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
    // libcrypt returns NULL (crypt_rn) or "*0"/"*1" for an unusable hash: never equal to a real hash.
    if (!out || out[0] == '*') return false;
    const std::string_view got(out);
    return got.size() == hash.size() && CRYPTO_memcmp(got.data(), hash.data(), hash.size()) == 0;
}

auth_table auth_table::parse(std::string_view text, std::vector<std::string>& errors)
{
    auth_table t;
    std::istringstream in{std::string(text)};
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        const auto c1 = line.find(':');
        const auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
        const std::string name = line.substr(0, c1);
        const std::string hash = c1 == std::string::npos ? "" : line.substr(c1 + 1, c2 - c1 - 1);
        if (name.empty() || hash.empty() || hash[0] != '$') {
            errors.push_back("line " + std::to_string(n) + ": expected name:$id$...crypt-hash[:senders]");
            continue;
        }
        auth_user u{hash, c2 == std::string::npos ? std::vector<std::string>{} : split_commas(line.substr(c2 + 1))};
        if (u.senders.empty() && name.find('@') != std::string::npos) u.senders.push_back(name);
        if (!t.users_.emplace(name, std::move(u)).second)
            errors.push_back("line " + std::to_string(n) + ": user " + name + " listed twice");
    }
    return t;
}

std::optional<std::vector<std::string>> auth_table::check(const std::string& name, const std::string& password) const
{
    auto it = users_.find(name);
    if (it == users_.end()) {
        password_matches(password, decoy_hash);  // same cost as a real check
        return std::nullopt;
    }
    if (!password_matches(password, it->second.hash)) return std::nullopt;
    return it->second.senders;
}

auth_table load_auth_table(const std::string& path)
{
    std::ifstream f(path);
    if (!f) throw std::runtime_error("auth_users_file " + path + ": cannot read");
    std::stringstream text;
    text << f.rdbuf();
    std::vector<std::string> errors;
    auto t = auth_table::parse(text.str(), errors);
    if (!errors.empty()) throw std::runtime_error("auth_users_file " + path + ": " + errors.front());
    return t;
}

}  // namespace postrider::inbound
