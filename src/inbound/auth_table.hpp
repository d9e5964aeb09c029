// inbound/auth_table.hpp: SMTP AUTH users and their crypt(3) password hashes.
//
// Owns: the users file format, password checks, and which sender addresses
//       each user may use (auth_sender_login_match).
// Trust: the file is the admin's (trusted, fallible: parse errors carry line
//        numbers). Passwords checked here are UNTRUSTED and SECRET: never
//        logged. Checks cost one crypt_r() whether or not the user exists, so
//        timing does not tell which users exist.
// Format: one user per line, "name:hash[:sender,sender...]"; '#' comments.
//         hash is any crypt(3) hash libcrypt knows ($y$ yescrypt, $6$ SHA-512);
//         without a sender list, a name containing '@' may send as itself.
// Standards: RFC 4954 (what the names are for); crypt(5).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace postrider::inbound {

struct auth_user {
    std::string hash;
    std::vector<std::string> senders;
};

class auth_table {
public:
    // parse - the file's text; errors get "line N: ..." sentences.
    static auth_table parse(std::string_view text, std::vector<std::string>& errors);

    // check - the user's sender list when name/password match, else nullopt.
    std::optional<std::vector<std::string>> check(const std::string& name, const std::string& password) const;
    std::size_t size() const noexcept { return users_.size(); }

private:
    std::unordered_map<std::string, auth_user> users_;
};

// load_auth_table - read and parse the file; throws std::runtime_error with the first problem.
auth_table load_auth_table(const std::string& path);

// password_matches - crypt_rn(password, hash) equals hash, compared in constant time.
bool password_matches(const std::string& password, const std::string& hash);

}  // namespace postrider::inbound
