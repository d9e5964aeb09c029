// outbound/secret_file.cpp: password file reading (see secret_file.hpp).
#include "outbound/secret_file.hpp"

#include "outbound/sasl.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace postrider::outbound {

std::optional<std::string> read_secret_file(const std::filesystem::path& path, std::string& error)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        error = "cannot read " + path.string();
        return std::nullopt;
    }
    if (st.st_mode & S_IROTH) {
        error = path.string() + " is readable by other users (chmod o-r)";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    std::string line;
    if (!in || !std::getline(in, line)) {
        error = "cannot read " + path.string();
        return std::nullopt;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!valid_credential(line)) {
        error = path.string() + ": the first line must hold the password (1-255 octets, no NUL)";
        return std::nullopt;
    }
    return line;
}

}  // namespace postrider::outbound
