// local/address_list.cpp: PURE RFC 5322 address-list parser (no I/O).
#include "local/address_list.hpp"

#include <utility>

namespace postrider::local {
namespace {

bool fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// element - one mailbox in progress: the words outside <> and the text inside them.
struct element {
    std::string words;  // display name or addr-spec, blanks squeezed out
    std::string angle;  // the <addr-spec>, when given
    bool has_angle = false;
    bool spaced = false;  // words had blanks between them (a display name, not an addr-spec)
};

}  // namespace

address_list_result parse_address_list(std::string_view s)
{
    address_list_result r;
    element e;
    bool pending_space = false;
    auto finish = [&]() -> bool {
        std::string a;
        if (e.has_angle) {
            a = std::move(e.angle);
            if (a.empty()) { r.error = "empty <> address"; return false; }
        } else {
            if (e.words.empty()) { e = {}; return true; }  // ",," or a trailing comma
            if (e.spaced) { r.error = "display name without <address>: " + e.words; return false; }
            a = std::move(e.words);
        }
        if (!a.empty() && a.front() == '@') { r.error = "source routes are not supported"; return false; }
        r.addresses.push_back(std::move(a));
        e = {};
        return true;
    };
    for (char c : s)
        if ((static_cast<unsigned char>(c) < 0x20 && !fws(c)) || c == 0x7f) {
            r.error = "control character";
            return r;
        }
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (fws(c)) { pending_space = true; ++i; continue; }
        if (c == '(') {  // comment, nested
            std::size_t depth = 0;
            for (; i < s.size(); ++i) {
                if (s[i] == '\\') { ++i; continue; }
                if (s[i] == '(') ++depth;
                else if (s[i] == ')' && --depth == 0) break;
            }
            if (i >= s.size()) { r.error = "unterminated comment"; break; }
            ++i;
            pending_space = true;
            continue;
        }
        if (c == ',') {
            if (!finish()) break;
            pending_space = false;
            ++i;
            continue;
        }
        if (c == ':' || c == ';') { r.error = "groups (name: a, b;) are not supported"; break; }
        if (c == '<') {
            if (e.has_angle) { r.error = "two <> in one address"; break; }
            const auto close = s.find('>', i);
            if (close == std::string_view::npos) { r.error = "missing '>'"; break; }
            std::string_view in = s.substr(i + 1, close - i - 1);
            while (!in.empty() && fws(in.front())) in.remove_prefix(1);
            while (!in.empty() && fws(in.back())) in.remove_suffix(1);
            if (in.find_first_of("<,\"()") != std::string_view::npos) { r.error = "unsupported text inside <>"; break; }
            e.angle = std::string(in);
            e.has_angle = true;
            i = close + 1;
            pending_space = false;
            continue;
        }
        if (c == '>') { r.error = "unexpected '>'"; break; }
        if (e.has_angle) { r.error = "text after <address>"; break; }
        std::string word;
        if (c == '"') {  // quoted string, kept with its quotes (a quoted local part)
            std::size_t j = i + 1;
            for (; j < s.size() && s[j] != '"'; ++j)
                if (s[j] == '\\') ++j;
            if (j >= s.size()) { r.error = "unterminated quoted string"; break; }
            word = std::string(s.substr(i, j - i + 1));
            i = j + 1;
        } else {
            std::size_t j = i;
            while (j < s.size() && !fws(s[j]) && s[j] != '(' && s[j] != ',' && s[j] != '<' && s[j] != '>' &&
                   s[j] != '"' && s[j] != ':' && s[j] != ';')
                ++j;
            word = std::string(s.substr(i, j - i));
            i = j;
        }
        // "a @ b" and "a.b" join without a blank; other blank-separated words make a phrase.
        const bool joins = !e.words.empty() && (e.words.back() == '@' || e.words.back() == '.' ||
                                                word.front() == '@' || word.front() == '.');
        if (pending_space && !e.words.empty() && !joins) e.spaced = true;
        if (e.spaced && !e.words.empty()) e.words += ' ';
        e.words += word;
        pending_space = false;
    }
    if (r.error.empty()) finish();
    if (!r.error.empty()) r.addresses.clear();
    return r;
}

}  // namespace postrider::local
