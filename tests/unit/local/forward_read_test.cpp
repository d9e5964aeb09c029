#include "support/catch.hpp"

#include "local/forward_file.hpp"
#include "local/forward_read.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <string>

using namespace postrider::local;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

expansion_plan plan_for(std::string user_dir, std::vector<std::string> files)
{
    expansion_plan p;
    p.type = expansion_plan::kind::mailbox;
    p.user_dir = std::move(user_dir);
    p.forward_files = std::move(files);
    return p;
}

}  // namespace

TEST_CASE("forward read: the first file that exists wins; none is no error", "[forward_read]")
{
    postrider::test::temp_dir t;
    const auto root = t.path();
    auto f = read_forward_facts(root, plan_for("d/joe", {".qmail-news", ".qmail-default", ".qmail"}));
    CHECK(f.io_error.empty());  // no directory yet
    CHECK(f.file_name.empty());
    write(root / "d/joe/.qmail", "&a@x.test\n");
    write(root / "d/joe/.qmail-default", "&b@x.test\n");
    f = read_forward_facts(root, plan_for("d/joe", {".qmail-news", ".qmail-default", ".qmail"}));
    CHECK(f.io_error.empty());
    CHECK(f.file_name == ".qmail-default");
    CHECK(f.file_text == "&b@x.test\n");
}

TEST_CASE("forward read: symlinks, other file types and big files are refused", "[forward_read]")
{
    postrider::test::temp_dir t;
    const auto root = t.path();
    write(root / "outside", "&evil@x.test\n");
    fs::create_directories(root / "d/joe");
    fs::create_symlink(root / "outside", root / "d/joe/.qmail");
    auto f = read_forward_facts(root, plan_for("d/joe", {".qmail"}));
    CHECK(f.io_error.find("symlink") != std::string::npos);
    CHECK(f.file_text.empty());

    fs::create_directories(root / "d/ann/.qmail");
    f = read_forward_facts(root, plan_for("d/ann", {".qmail"}));
    CHECK(f.io_error.find("not a regular file") != std::string::npos);

    write(root / "d/big/.qmail", std::string(max_forward_file_octets + 1, '#'));
    f = read_forward_facts(root, plan_for("d/big", {".qmail"}));
    CHECK(f.io_error.find("larger than " + std::to_string(max_forward_file_octets) + " octets") != std::string::npos);
}

TEST_CASE("forward read: owner directories are stat'ed", "[forward_read]")
{
    postrider::test::temp_dir t;
    const auto root = t.path();
    fs::create_directories(root / "d/owner-list");
    write(root / "d/joe/.qmail-list-owner", "./Maildir/\n");
    expansion_plan p;
    p.owners = {{"owner-list@d", false, "d/owner-list", false}, {"list-owner@d", false, "d/list-owner", false},
                {"joe+list-owner@d", false, "d/joe/.qmail-list-owner", true},
                {"joe+x-owner@d", false, "d/joe/.qmail-x-owner", true}, {"dir-as-file@d", false, "d/owner-list", true}};
    auto f = read_forward_facts(root, p);
    CHECK(f.owner_exists == std::vector<bool>{true, false, true, false, false});
}

TEST_CASE("symlink_below refuses a symlinked component below the user's directory", "[forward_read]")
{
    postrider::test::temp_dir t;
    const auto root = t.path();
    fs::create_directories(root / "d/joe/real");
    fs::create_directories(root / "elsewhere");
    fs::create_directory_symlink(root / "elsewhere", root / "d/joe/link");
    CHECK(symlink_below(root, "d/joe", "d/joe/real/sub").empty());      // missing tail: created later
    CHECK(symlink_below(root, "d/joe", "d/joe/Maildir").empty());
    CHECK_FALSE(symlink_below(root, "d/joe", "d/joe/link").empty());
    CHECK_FALSE(symlink_below(root, "d/joe", "d/joe/link/Maildir").empty());
    write(root / "d/joe/file", "x");
    CHECK_FALSE(symlink_below(root, "d/joe", "d/joe/file").empty());
    CHECK(symlink_below(root, "", "d/joe/link").empty());                // not from a user file
    // The maildir's own tmp/, new/ and cur/ are below the target: a symlink there escapes too.
    for (const char* sub : {"tmp", "new", "cur"}) {
        INFO(sub);
        const auto md = root / "d/joe/lists" / sub;
        fs::create_directories(md);
        fs::create_directories(root / "d/joe/lists/tmp");
        CHECK(symlink_below(root, "d/joe", "d/joe/lists").empty());
        fs::remove_all(md);
        fs::create_directory_symlink(root / "elsewhere", md);
        CHECK(symlink_below(root, "d/joe", "d/joe/lists").find("symlinked " + std::string(sub)) != std::string::npos);
        fs::remove(md);
    }
}
