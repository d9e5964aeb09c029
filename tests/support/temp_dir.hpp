// tests/support/temp_dir.hpp: a per-test temporary directory, removed afterwards.
// XXX: belongs in tests/support/temp_spool.hpp once that exists; shared by local tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace postrider::test {

class temp_dir {
public:
    temp_dir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "postrider-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~temp_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// files_in - names of the regular files in dir (empty when dir is missing).
inline std::vector<std::string> files_in(const std::filesystem::path& dir)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.is_regular_file()) out.push_back(e.path().filename().string());
    return out;
}

// slurp - whole file as a string.
inline std::string slurp(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// spit - write a whole file.
inline void spit(const std::filesystem::path& p, const std::string& data)
{
    std::ofstream out(p, std::ios::binary);
    out << data;
}

}  // namespace postrider::test
