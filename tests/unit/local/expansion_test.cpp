#include "support/catch.hpp"

#include "local/alias_table.hpp"
#include "local/expansion.hpp"

#include <memory>
#include <string>

using namespace postrider::local;
using kind = delivery_target::kind;

namespace {

mailbox_table with_aliases(mailbox_table t, const char* aliases)
{
    auto a = parse_alias_table(aliases);
    REQUIRE(a.errors.empty());
    t.set_aliases(std::make_shared<const alias_table>(std::move(a.table)));
    t.set_recipient_delimiter("+");
    return t;
}

mailbox_table defaults() { return mailbox_table::defaults({"example.org"}); }

// forward_facts - what the disk step reports when forward file name holds text.
expansion_facts forward_facts(const char* name, const char* text)
{
    expansion_facts f;
    f.file_name = name;
    f.file_text = text;
    return f;
}

}  // namespace

TEST_CASE("expansion: no alias, no forward file: the mailbox as before", "[expansion]")
{
    auto t = with_aliases(defaults(), "staff: alice\n");
    auto p = plan_expansion("Joe+news", "example.org", t);
    REQUIRE(p.type == expansion_plan::kind::mailbox);
    CHECK(p.user_dir == "example.org/joe");
    CHECK(p.forward_files == std::vector<std::string>{".qmail-news", ".qmail-default", ".qmail"});
    auto e = finish_expansion(p, {}, false);
    REQUIRE(e.type == expansion::kind::targets);
    CHECK(is_own_mailbox_only(p, e));
    CHECK(e.envelope_sender.empty());
}

TEST_CASE("expansion: unknown user", "[expansion]")
{
    auto r = parse_mailbox_table("alice@example.org example.org/alice/Maildir\n");
    REQUIRE(r.errors.empty());
    auto t = with_aliases(std::move(r.table), "staff: alice\n");
    auto p = plan_expansion("bob", "example.org", t);
    CHECK(finish_expansion(p, {}, false).type == expansion::kind::unknown_user);
    // Alias naming itself without a mailbox: unknown user, not a loop.
    auto t2 = with_aliases(parse_mailbox_table("alice@example.org a/Maildir\n").table, "self: self, alice\n");
    CHECK(finish_expansion(plan_expansion("self", "example.org", t2), {}, false).type == expansion::kind::unknown_user);
}

TEST_CASE("expansion: alias members, itself, duplicates, owner", "[expansion]")
{
    auto r = parse_mailbox_table("list@example.org example.org/list/Maildir\n"
                                 "owner-list@example.org example.org/owner/Maildir\n");
    REQUIRE(r.errors.empty());
    auto t = with_aliases(std::move(r.table), "list: LIST, bob, Bob@example.org, carol@remote.test\n");
    auto p = plan_expansion("list", "example.org", t);
    REQUIRE(p.type == expansion_plan::kind::alias);
    auto e = finish_expansion(p, {}, false);
    REQUIRE(e.type == expansion::kind::targets);
    REQUIRE(e.targets.size() == 3);
    CHECK(e.targets[0] == delivery_target{kind::maildir, "example.org/list/Maildir"});  // itself: its mailbox
    CHECK(e.targets[1] == delivery_target{kind::address, "bob@example.org"});
    CHECK(e.targets[2] == delivery_target{kind::address, "carol@remote.test"});
    CHECK(e.envelope_sender == "owner-list@example.org");  // exact mailbox table entry
    CHECK(e.source == "alias");
}

TEST_CASE("expansion: list owner through an alias, LIST-owner, or a directory", "[expansion]")
{
    auto t = with_aliases(defaults(), "team: a@x.test\nteam-owner: boss\n");
    auto e = finish_expansion(plan_expansion("team", "example.org", t), {}, false);
    CHECK(e.envelope_sender == "team-owner@example.org");

    // The default mapping answers for every safe name: the owner must have a directory.
    auto t2 = with_aliases(defaults(), "crew: a@x.test\n");
    auto p = plan_expansion("crew", "example.org", t2);
    REQUIRE(p.owners.size() == 2);
    CHECK(p.owners[0].path_to_stat == "example.org/owner-crew");
    CHECK_FALSE(p.owners[0].expect_file);
    CHECK(finish_expansion(p, {}, false).envelope_sender.empty());
    expansion_facts f;
    f.owner_exists = {false, true};
    CHECK(finish_expansion(p, f, false).envelope_sender == "crew-owner@example.org");
    f.owner_exists = {true, true};
    CHECK(finish_expansion(p, f, false).envelope_sender == "owner-crew@example.org");
}

TEST_CASE("expansion: the owner of a list with an extension is its exact forward file", "[expansion]")
{
    auto t = with_aliases(defaults(), "x: y\n");
    auto p = plan_expansion("joe+friends", "example.org", t);
    // owner-joe+friends lives in owner-joe's directory; joe+friends-owner in joe's, as a file.
    REQUIRE(p.owners.size() == 2);
    CHECK(p.owners[0].path_to_stat == "example.org/owner-joe/.qmail-friends");
    CHECK(p.owners[1].path_to_stat == "example.org/joe/.qmail-friends-owner");
    CHECK(p.owners[1].expect_file);
    auto f = forward_facts(".qmail-friends", "&a@x.test\n&b@y.test\n");
    CHECK(finish_expansion(p, f, false).envelope_sender.empty());  // joe's directory alone is not enough
    f.owner_exists = {false, true};
    CHECK(finish_expansion(p, f, false).envelope_sender == "joe+friends-owner@example.org");
}

TEST_CASE("expansion: forward file targets stay below the user's directory", "[expansion]")
{
    auto p = plan_expansion("joe", "example.org", defaults());
    auto f = forward_facts(".qmail", "&bob@remote.test\n./Maildir/\n./saved/\njoe@example.org\n");
    auto e = finish_expansion(p, f, false);
    REQUIRE(e.type == expansion::kind::targets);
    REQUIRE(e.targets.size() == 3);  // joe@ itself is its own maildir, already listed
    CHECK(e.targets[0] == delivery_target{kind::address, "bob@remote.test"});
    CHECK(e.targets[1] == delivery_target{kind::maildir, "example.org/joe/Maildir"});
    CHECK(e.targets[2] == delivery_target{kind::maildir, "example.org/joe/saved"});
    CHECK(e.user_dir == "example.org/joe");
    CHECK_FALSE(is_own_mailbox_only(p, e));
}

TEST_CASE("expansion: a bad forward file or an I/O error defers", "[expansion]")
{
    auto p = plan_expansion("joe", "example.org", defaults());
    auto f = forward_facts(".qmail", "&ok@example.org\n./../escape/\n");
    auto e = finish_expansion(p, f, false);
    CHECK(e.type == expansion::kind::defer);
    CHECK(e.reason.find(".qmail line 2") != std::string::npos);
    f.file_text = "|/bin/true\n";
    e = finish_expansion(p, f, false);
    CHECK(e.type == expansion::kind::defer);
    CHECK(e.reason.find("allow_program_delivery") != std::string::npos);
    e = finish_expansion(p, f, true);
    REQUIRE(e.type == expansion::kind::targets);
    CHECK(e.targets == std::vector<delivery_target>{{kind::program, "/bin/true"}});
    expansion_facts bad;
    bad.io_error = "forward file .qmail is a symlink";
    CHECK(finish_expansion(p, bad, false).type == expansion::kind::defer);
}

TEST_CASE("expansion: a mailbox path not ending in /Maildir has no forward files", "[expansion]")
{
    auto r = parse_mailbox_table("joe@example.org spool/joe\n");
    REQUIRE(r.errors.empty());
    auto p = plan_expansion("joe", "example.org", r.table);
    CHECK(p.user_dir.empty());
    CHECK(p.forward_files.empty());
}
