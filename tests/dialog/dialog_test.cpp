// tests/dialog/dialog_test.cpp: runs every tests/dialog/**/*.dialog against smtp::server_engine.
//
// Trust: test code. Dialog files are trusted test data; see README.md for the format.
// Each dialog runs in one feed(), split at every byte offset and byte by byte
// (large repeated dialogs: 64 split points), and every run must give the same
// replies, messages and final state, which must match the file.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "unit/smtp/engine_driver.hpp"

namespace fs = std::filesystem;
using namespace postrider::smtp;
using namespace postrider::smtp::test;

namespace {

struct expected_line {
    std::string text;
    bool prefix = false;
};

struct envelope {
    std::string sender;
    std::string rcpts;  // comma-separated
};

struct script {
    std::vector<std::string> input{1};  // segments; the TLS handshake happens between two (T:)
    run_options options;
    std::vector<expected_line> replies;
    std::vector<std::string> messages;
    std::vector<envelope> envelopes;
    std::vector<std::string> events;
    std::string final_state;  // "", "closed" or "open"
    long message_count = -1;
};

// unescape - \r \n \t \\ \xNN.
std::string unescape(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        const char c = s[++i];
        if (c == 'x' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += c == 'r' ? '\r' : c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
    }
    return out;
}

// apply_option - "key=value" from an O: line.
void apply_option(script& s, std::string_view kv)
{
    const auto eq = kv.find('=');
    REQUIRE(eq != std::string_view::npos);
    const auto key = kv.substr(0, eq);
    const std::string value(kv.substr(eq + 1));
    auto& st = s.options.settings;
    if (key == "max_size") st.max_message_size = std::stoull(value);
    else if (key == "max_rcpt") st.max_recipients = std::stoul(value);
    else if (key == "hard_errors") st.hard_error_limit = std::stoul(value);
    else if (key == "hostname") st.hostname = value;
    else if (key == "starttls") st.starttls = value == "yes";
    else if (key == "tls") s.options.implicit_tls = value == "yes";
    else if (key == "auth") st.auth = value == "yes";
    else if (key == "auth_plaintext") st.auth_plaintext = value == "yes";
    else if (key == "auth_required") st.auth_required = value == "yes";
    else if (key == "sender_login_match") st.sender_login_match = value == "yes";
    else if (key == "relay_permitted") st.relay_permitted = value == "yes";
    else if (key == "commit") s.options.commit_ok = value == "ok";
    else if (key == "end")
        s.options.at_end = value == "peer_closed" ? end_action::peer_closed
                         : value == "timeout"     ? end_action::timeout
                         : value == "shutdown"    ? end_action::shutdown
                                                  : end_action::none;
    else FAIL("unknown option " << key);
}

// apply_line - one directive, repeated n times.
void apply_line(script& s, char tag, std::string_view text, long n)
{
    for (long i = 0; i < n; ++i) {
        switch (tag) {
        case 'C': s.input.back() += unescape(text) + "\r\n"; break;
        case 'B': s.input.back() += unescape(text); break;
        case 'T': s.input.emplace_back(); break;
        case 'S':
            if (!text.empty() && text.back() == '*')
                s.replies.push_back({std::string(text.substr(0, text.size() - 1)), true});
            else
                s.replies.push_back({std::string(text), false});
            break;
        case 'M': s.messages.push_back(unescape(text)); break;
        case 'F': {
            const auto sp = text.find(' ');
            s.envelopes.push_back({std::string(text.substr(0, sp)), std::string(text.substr(sp + 1))});
            break;
        }
        case 'E': s.events.emplace_back(text); break;
        case 'X': s.final_state = std::string(text); break;
        case 'N': s.message_count = std::stol(std::string(text)); break;
        case 'O': apply_option(s, text); break;
        default: FAIL("unknown directive " << tag);
        }
    }
}

// load - parse a .dialog file.
script load(const fs::path& p)
{
    std::ifstream f(p, std::ios::binary);
    REQUIRE(f.good());
    script s;
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        const auto colon = line.find(':');
        REQUIRE(colon != std::string::npos);
        long n = 1;
        if (colon > 1 && line[1] == '*')
            n = std::stol(line.substr(2, colon - 2));
        // "C: text", or "C:" alone for an empty text.
        const auto start = colon + 1 < line.size() && line[colon + 1] == ' ' ? colon + 2 : colon + 1;
        apply_line(s, line[0], std::string_view(line).substr(start), n);
    }
    return s;
}

// split_lines - output into lines without CRLF.
std::vector<std::string> split_lines(std::string_view out)
{
    std::vector<std::string> lines;
    for (std::size_t eol; (eol = out.find("\r\n")) != std::string_view::npos; out.remove_prefix(eol + 2))
        lines.emplace_back(out.substr(0, eol));
    return lines;
}

// join_rcpts - recipients as a comma list.
std::string join_rcpts(const accepted_message& m)
{
    std::string out;
    for (const auto& r : m.recipients)
        out += (out.empty() ? "" : ",") + r.address;
    return out;
}

// check_script - the one-feed result against the file's expectations.
void check_script(const script& s, const run_result& r)
{
    CHECK(replies_well_formed(r.output));
    const auto got = split_lines(r.output);
    for (std::size_t i = 0; i < std::max(got.size(), s.replies.size()); ++i) {
        INFO("reply line " << i);
        REQUIRE(i < got.size());
        REQUIRE(i < s.replies.size());
        const auto& want = s.replies[i];
        INFO("got  " << got[i] << "\nwant " << want.text);
        CHECK((want.prefix ? got[i].rfind(want.text, 0) == 0 : got[i] == want.text));
    }
    if (s.message_count >= 0)
        CHECK(r.messages.size() == static_cast<std::size_t>(s.message_count));
    for (std::size_t i = 0; i < s.messages.size(); ++i) {
        REQUIRE(i < r.messages.size());
        CHECK(r.messages[i].data == s.messages[i]);
    }
    for (std::size_t i = 0; i < s.envelopes.size(); ++i) {
        REQUIRE(i < r.messages.size());
        CHECK((r.messages[i].sender.empty() ? "<>" : r.messages[i].sender) == s.envelopes[i].sender);
        CHECK(join_rcpts(r.messages[i]) == s.envelopes[i].rcpts);
    }
    for (const auto& m : r.messages)
        CHECK(crlf_clean(m.data));
    for (const auto& want : s.events) {
        INFO("event " << want);
        CHECK(std::any_of(r.events.begin(), r.events.end(),
                          [&](const std::string& e) { return e.find(want) != std::string::npos; }));
    }
    if (!s.final_state.empty())
        CHECK((r.final_phase == input_phase::closed) == (s.final_state == "closed"));
}

// dialog_files - every *.dialog under the dialog directory, sorted.
std::vector<fs::path> dialog_files()
{
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(POSTRIDER_DIALOG_DIR))
        if (e.is_regular_file() && e.path().extension() == ".dialog")
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

TEST_CASE("dialog files: replies, messages and state, at every split point", "[dialog]")
{
    const auto files = dialog_files();
    REQUIRE(files.size() >= 20);  // the directory was found and is populated
    for (const auto& p : files) {
        INFO("dialog " << p.string());
        const auto s = load(p);
        REQUIRE_FALSE(s.replies.empty());
        const std::vector<std::string_view> segments(s.input.begin(), s.input.end());
        const auto r = grind_segments(segments, s.options);
        check_script(s, r);
    }
}
