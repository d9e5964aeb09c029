// smtp/command.hpp: one framed command line -> a typed command.
//
// Owns: verb recognition (case-insensitive) and the fixed-shape arguments:
//       "FROM:"/"TO:" prefixes of MAIL/RCPT and "BDAT <n> [LAST]".
// Trust: input is one UNTRUSTED line (CR/LF already removed by line_reader,
//        at most 510 octets). Output views point into that line; nothing is
//        copied or interpreted beyond the verb and the fixed prefixes.
// Standards: RFC 5321 4.1.1 (commands), 4.1.2 (syntax), 2.4 (verbs are
//            case-insensitive); RFC 3030 2 (BDAT).
// See also: address.hpp (paths), esmtp_params.hpp (parameters).
#pragma once

#include <cstdint>
#include <string_view>

namespace postrider::smtp {

enum class verb {
    helo, ehlo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, expn, help,
    starttls,         // offered when settings.starttls (RFC 3207)
    auth,             // offered when settings.auth (RFC 4954), see engine_commands.cpp do_auth
    not_implemented,  // other RFC verbs we do not offer (TURN, ETRN, ...): 502 5.5.1
    unknown,          // anything else: 500 5.5.2
    empty,            // an empty line: 500 5.5.2
};

struct command {
    verb kind = verb::unknown;
    std::string_view name;  // the verb as sent (for logs), empty for verb::empty
    std::string_view arg;   // text after the verb and its separating space; trailing blanks removed
};

// parse_command - split and classify one command line.
command parse_command(std::string_view line);

// verb_name - upper-case canonical verb for logs ("UNKNOWN" for unrecognised).
std::string_view verb_name(verb v) noexcept;

struct path_argument {
    bool ok = false;
    std::string_view path;    // "<...>" including the brackets
    std::string_view params;  // ESMTP parameters after the path, leading blanks removed
};

// split_path_argument - "FROM:<path> params" / "TO:<path> params" with the
//                       given prefix (case-insensitive); blanks after the colon tolerated.
path_argument split_path_argument(std::string_view arg, std::string_view prefix);

struct bdat_argument {
    bool count_ok = false;  // the chunk size parsed: that many octets follow regardless
    bool syntax_ok = false; // the whole argument was "<digits>" or "<digits> LAST"
    std::uint64_t count = 0;
    bool last = false;
};

// parse_bdat - RFC 3030 2: bdat-cmd = "BDAT" SP chunk-size [SP end-marker].
bdat_argument parse_bdat(std::string_view arg);

// iequals - ASCII case-insensitive comparison.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace postrider::smtp
