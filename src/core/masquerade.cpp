// core/masquerade.cpp: PURE address masquerading (see masquerade.hpp).
#include "core/masquerade.hpp"

#include "core/limits.hpp"

#include <algorithm>
#include <array>

namespace postrider::core {
namespace {

char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

bool iequal(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower(x) == lower(y);
           });
}

// unquote - the content of a quoted-string ("a\"b" -> a"b); other text unchanged.
std::string unquote(std::string_view s)
{
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
    std::string out;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        if (s[i] == '\\' && i + 2 < s.size()) ++i;
        out += s[i];
    }
    return out;
}

// --- RFC 5322 address-list tokens -----------------------------------------------------------

enum class tok { atom, quoted, literal, special };

struct token {
    tok kind;
    std::size_t begin, end;  // octets of the field value
    char ch = 0;             // the special character
};

bool is_atext(unsigned char c)
{
    if (c >= 0x80) return true;  // raw UTF-8 (RFC 6532) or 8-bit names: atext for our purpose
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

// fold_at - v[i] starts a CRLF that folds (is followed by SP or HTAB).
bool fold_at(std::string_view v, std::size_t i)
{
    return i + 2 < v.size() && v[i] == '\r' && v[i + 1] == '\n' && (v[i + 2] == ' ' || v[i + 2] == '\t');
}

// skip_delimited - past the closing `close` of a quoted string, comment (nested) or domain
//                  literal that opens at v[start]; npos when it is not closed, or holds a
//                  bare CR/LF or NUL.
std::size_t skip_delimited(std::string_view v, std::size_t start, char open, char close)
{
    int depth = 1;
    for (std::size_t i = start + 1; i < v.size(); ++i) {
        const char c = v[i];
        if (c == '\\') {  // quoted-pair (obs-dtext allows it in literals too)
            if (++i >= v.size() || v[i] == '\r' || v[i] == '\n' || v[i] == '\0') return std::string_view::npos;
        } else if (c == '\r') {
            if (!fold_at(v, i)) return std::string_view::npos;
            ++i;
        } else if (c == '\n' || c == '\0') {
            return std::string_view::npos;
        } else if (open == '(' && c == '(') {
            ++depth;
        } else if (open == '[' && c == '[') {
            return std::string_view::npos;
        } else if (c == close && --depth == 0) {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

// tokenize - the significant tokens of an address-list value (comments and folding white
//            space dropped); false when the value is not lexically valid.
bool tokenize(std::string_view v, std::vector<token>& out)
{
    std::size_t i = 0;
    while (i < v.size()) {
        const auto c = static_cast<unsigned char>(v[i]);
        if (c == ' ' || c == '\t') {
            ++i;
        } else if (c == '\r') {
            if (!fold_at(v, i)) return false;
            i += 2;
        } else if (c == '(' || c == '"' || c == '[') {
            const char close = c == '(' ? ')' : c == '"' ? '"' : ']';
            const std::size_t end = skip_delimited(v, i, static_cast<char>(c), close);
            if (end == std::string_view::npos) return false;
            if (c != '(') out.push_back({c == '"' ? tok::quoted : tok::literal, i, end});
            i = end;
        } else if (std::string_view("<>:;@,.").find(static_cast<char>(c)) != std::string_view::npos) {
            out.push_back({tok::special, i, i + 1, static_cast<char>(c)});
            ++i;
        } else if (is_atext(c)) {
            const std::size_t b = i;
            while (i < v.size() && is_atext(static_cast<unsigned char>(v[i]))) ++i;
            out.push_back({tok::atom, b, i});
        } else {
            return false;  // ')', ']', '\\', control characters
        }
    }
    return true;
}

struct replacement {
    std::size_t begin, end;
    std::string text;
};

bool is_special(const token& t, char c)
{
    return t.kind == tok::special && t.ch == c;
}

// word_like - an atom, a quoted string or a dot (obs-phrase / obs-local-part pieces).
bool word_like(const token& t)
{
    return t.kind == tok::atom || t.kind == tok::quoted || is_special(t, '.');
}

// addr_spec - the addr-spec in toks[b, e) (already without angle brackets and route):
//             adds the domain's replacement to `out`; false when it is not an addr-spec.
bool addr_spec(std::string_view v, const std::vector<token>& toks, std::size_t b, std::size_t e,
               const masquerade_rules& r, std::vector<replacement>& out)
{
    if (b == e) return true;  // <> (e.g. a null Return-Path): nothing to rewrite
    std::size_t at = e;
    for (std::size_t i = b; i < e; ++i) {
        if (!is_special(toks[i], '@')) continue;
        if (at != e) return false;
        at = i;
    }
    for (std::size_t i = b; i < at; ++i)
        if (!word_like(toks[i])) return false;
    if (at == e) return true;  // a bare local part: no domain to rewrite
    if (at == b || at + 1 == e) return false;
    if (e - at == 2 && toks[at + 1].kind == tok::literal) return true;  // [192.0.2.1]: never masqueraded
    // dot-atom domain: atom ("." atom)*
    for (std::size_t i = at + 1; i < e; ++i) {
        const bool want_atom = (i - at) % 2 == 1;
        if (want_atom ? toks[i].kind != tok::atom : !is_special(toks[i], '.')) return false;
    }
    if ((e - at) % 2 != 0) return false;  // ends with a dot
    // Comments or folding inside the domain (obsolete syntax): valid, but left as it is.
    for (std::size_t i = at + 2; i < e; ++i)
        if (toks[i].begin != toks[i - 1].end) return true;
    std::string local;
    for (std::size_t i = b; i < at; ++i) local += unquote(v.substr(toks[i].begin, toks[i].end - toks[i].begin));
    if (is_masquerade_exception(local, r)) return true;
    const std::size_t db = toks[at + 1].begin, de = toks[e - 1].end;
    if (auto d = masquerade_domain(v.substr(db, de - db), r)) out.push_back({db, de, std::move(*d)});
    return true;
}

// mailbox - one list element toks[b, e): empty, addr-spec or [phrase] "<" [route ":"] addr-spec ">".
bool mailbox(std::string_view v, const std::vector<token>& toks, std::size_t b, std::size_t e,
             const masquerade_rules& r, std::vector<replacement>& out)
{
    std::size_t lt = e;
    for (std::size_t i = b; i < e; ++i)
        if (is_special(toks[i], '<')) {
            lt = i;
            break;
        }
    if (lt == e) return addr_spec(v, toks, b, e, r, out);
    for (std::size_t i = b; i < lt; ++i)
        if (!word_like(toks[i])) return false;
    if (!is_special(toks[e - 1], '>') || e - 1 <= lt) return false;
    std::size_t ab = lt + 1;
    for (std::size_t i = lt + 1; i < e - 1; ++i) {
        if (is_special(toks[i], '<') || is_special(toks[i], '>')) return false;
        if (is_special(toks[i], ':')) ab = i + 1;  // obs-route "@a,@b:" ends here
    }
    return addr_spec(v, toks, ab, e - 1, r, out);
}

// address_list - the replacements for every mailbox of an address list, groups included;
//                false when the value is not an address list.
bool address_list(std::string_view v, const std::vector<token>& toks, const masquerade_rules& r,
                  std::vector<replacement>& out)
{
    const std::size_t n = toks.size();
    bool in_group = false;
    std::size_t i = 0;
    while (i <= n) {
        std::size_t start = i;
        bool in_angle = false;
        for (; i < n; ++i) {
            const token& t = toks[i];
            if (t.kind != tok::special) continue;
            if (t.ch == '<') in_angle = true;
            if (t.ch == '>') in_angle = false;
            if (in_angle) continue;  // ',' and ':' of an obs-route
            if (t.ch == ',' || t.ch == ';') break;
            if (t.ch == ':') {
                if (in_group) return false;
                for (std::size_t k = start; k < i; ++k)
                    if (!word_like(toks[k])) return false;
                in_group = true;
                start = i + 1;
            }
        }
        if (in_angle) return false;
        if (!mailbox(v, toks, start, i, r, out)) return false;
        if (i == n) return !in_group;
        if (toks[i].ch == ';') {
            if (!in_group) return false;
            in_group = false;
            if (++i == n) return true;
            if (!is_special(toks[i], ',')) return false;
        }
        ++i;  // past ','
    }
    return true;
}

constexpr std::array<std::string_view, 7> sender_fields = {
    "from", "sender", "reply-to", "resent-from", "resent-sender", "resent-reply-to", "errors-to"};
constexpr std::array<std::string_view, 7> recipient_fields = {
    "to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc", "apparently-to"};

bool rewritten_field(std::string_view name, unsigned classes)
{
    auto in = [name](const auto& list) {
        return std::any_of(list.begin(), list.end(), [name](std::string_view f) { return iequal(name, f); });
    };
    return ((classes & masq_header_sender) && in(sender_fields)) ||
           ((classes & masq_header_recipient) && in(recipient_fields));
}

// field_end - past the CRLF that ends the field whose first line ends at eol, continuation
//             lines included; npos when a continuation line is unterminated.
std::size_t field_end(std::string_view message, std::size_t eol)
{
    std::size_t end = eol + 2;
    while (end < message.size() && (message[end] == ' ' || message[end] == '\t')) {
        const auto next = message.find("\r\n", end);
        if (next == std::string_view::npos) return next;
        end = next + 2;
    }
    return end;
}

bool valid_field_name(std::string_view name)
{
    if (name.empty()) return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return c > 32 && c < 127 && c != ':'; });
}

}  // namespace

std::optional<std::string> masquerade_domain(std::string_view domain, const masquerade_rules& r)
{
    const std::string d = lowered(domain);
    for (const auto& entry : r.domains) {
        const bool excluded = !entry.empty() && entry[0] == '!';
        const std::string_view name = std::string_view(entry).substr(excluded ? 1 : 0);
        if (name.empty()) continue;
        if (d == name) return std::nullopt;  // already the masquerade domain (or excluded)
        if (d.size() > name.size() && d.compare(d.size() - name.size(), name.size(), name) == 0 &&
            d[d.size() - name.size() - 1] == '.') {
            if (excluded) return std::nullopt;
            return std::string(name);
        }
    }
    return std::nullopt;
}

bool is_masquerade_exception(std::string_view local, const masquerade_rules& r)
{
    const std::string l = lowered(unquote(local));
    return std::find(r.exceptions.begin(), r.exceptions.end(), l) != r.exceptions.end();
}

std::optional<std::string> masquerade_address(std::string_view address, const masquerade_rules& r)
{
    const auto at = address.rfind('@');
    if (address.empty() || at == std::string_view::npos || at == 0) return std::nullopt;
    const auto local = address.substr(0, at), domain = address.substr(at + 1);
    if (domain.empty() || domain.front() == '[' || is_masquerade_exception(local, r)) return std::nullopt;
    auto d = masquerade_domain(domain, r);
    if (!d) return std::nullopt;
    return std::string(local) + "@" + *d;
}

std::optional<std::string> masquerade_field_value(std::string_view value, const masquerade_rules& r)
{
    // A longer value is kept as it is: its tokens take up to 32 octets per octet of it.
    if (value.size() > limits::header_field_octets) return std::nullopt;
    std::vector<token> toks;
    std::vector<replacement> reps;
    if (!tokenize(value, toks) || !address_list(value, toks, r, reps) || reps.empty()) return std::nullopt;
    std::string out;
    std::size_t copied = 0;
    for (const auto& rep : reps) {
        out.append(value.substr(copied, rep.begin - copied));
        out += rep.text;
        copied = rep.end;
    }
    out.append(value.substr(copied));
    return out;
}

std::optional<header_rewrite> masquerade_header(std::string_view message, const masquerade_rules& r)
{
    if (r.empty() || !(r.classes & (masq_header_sender | masq_header_recipient))) return std::nullopt;
    header_rewrite out;
    std::size_t pos = 0, copied = 0;  // copied > 0: a field was rewritten
    while (pos < message.size()) {
        const auto eol = message.find("\r\n", pos);
        if (eol == std::string_view::npos || eol == pos) break;  // unterminated line, or the empty line
        const auto colon = message.find(':', pos);
        if (colon > eol || !valid_field_name(message.substr(pos, colon - pos))) break;  // not a field: the body
        const std::size_t end = field_end(message, eol);
        if (end == std::string_view::npos) break;  // torn fold
        const auto value = message.substr(colon + 1, end - 2 - colon - 1);
        if (rewritten_field(message.substr(pos, colon - pos), r.classes)) {
            if (auto v = masquerade_field_value(value, r)) {
                out.header.append(message.substr(copied, colon + 1 - copied));
                out.header += *v;
                out.header += "\r\n";
                copied = end;
            }
        }
        pos = end;
    }
    if (copied == 0) return std::nullopt;
    out.header.append(message.substr(copied, pos - copied));
    out.replaced = pos;
    return out;
}

}  // namespace postrider::core
