// tests/fuzz/fuzz_engine.cpp: libFuzzer target for smtp::server_engine.
// Byte 0 picks the chunk size and (bits 6, 7) whether STARTTLS and AUTH are
// offered, byte 1 the size limit and error limit; the rest is the client's
// byte stream. A STARTTLS handshake "completes" at the next chunk boundary.
// Invariants: output is CRLF lines with 3-digit codes; every message is
// CRLF-clean; buffering stays bounded; nothing is buffered while a handshake
// is due (CVE-2011-0411); the phase protocol (take_message/commit_done,
// take_auth/auth_done) is honoured.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "smtp/server_engine.hpp"

using namespace postrider;

namespace {

class policy final : public smtp::recipient_policy {
public:
    smtp::rcpt_verdict check(std::string_view local, std::string_view domain) const override
    {
        if (domain != "localhost")
            return domain.size() % 2 ? smtp::rcpt_verdict::relay_denied : smtp::rcpt_verdict::temp_failure;
        return local.size() % 3 ? smtp::rcpt_verdict::accept : smtp::rcpt_verdict::unknown_user;
    }
};

// check_output - CRLF lines, each "ddd" then ' ' or '-'.
void check_output(std::string_view out)
{
    fuzz::require(fuzz::crlf_clean(out), "output is CRLF lines");
    while (!out.empty()) {
        const auto eol = out.find("\r\n");
        const auto line = out.substr(0, eol);
        fuzz::require(line.size() >= 4 && (line[3] == ' ' || line[3] == '-'), "reply line shape");
        for (int i = 0; i < 3; ++i)
            fuzz::require(line[i] >= '0' && line[i] <= '9', "3-digit code");
        out.remove_prefix(eol + 2);
    }
}

// settle - behave like the session while a commit, a password check or a handshake is pending.
void settle(smtp::server_engine& e, unsigned& n)
{
    if (e.phase() == smtp::input_phase::starttls) {
        fuzz::require(e.buffered() == 0, "nothing buffered before the TLS handshake");
        e.tls_started();
        fuzz::require(e.authenticated_user().empty(), "TLS start forgets AUTH");
    }
    while (e.phase() == smtp::input_phase::awaiting_commit || e.phase() == smtp::input_phase::awaiting_auth) {
        if (e.phase() == smtp::input_phase::awaiting_auth) {
            auto a = e.take_auth();
            fuzz::require(a.has_value(), "credentials wait in awaiting_auth");
            fuzz::require(!e.take_auth(), "credentials are taken once");
            smtp::auth_outcome o;
            o.what = static_cast<smtp::auth_outcome::result>(a->credentials.password.size() % 4);
            o.senders = {a->credentials.authcid};
            e.auth_done(o);
            continue;
        }
        auto m = e.take_message();
        fuzz::require(m.has_value(), "a message waits in awaiting_commit");
        fuzz::require(fuzz::crlf_clean(m->data), "message data is CRLF-clean");
        fuzz::require(!m->recipients.empty(), "a message has recipients");
        e.commit_done({++n % 4 != 0, "Q" + std::to_string(n), "fuzz failure"});
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    smtp::server_settings settings;
    settings.max_message_size = 16u << (data[1] & 15);
    settings.hard_error_limit = 1 + (data[1] >> 4) * 8;
    settings.max_recipients = 1 + data[0] % 5;
    settings.starttls = (data[0] & 0x40) != 0;
    settings.auth = (data[0] & 0x80) != 0;
    settings.auth_plaintext = (data[1] & 1) != 0;
    settings.auth_required = (data[1] & 2) != 0;
    settings.sender_login_match = (data[1] & 4) != 0;
    const std::size_t step = 1 + data[0] % 64;
    std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);
    policy p;
    smtp::server_engine e(settings, p, "192.0.2.1");
    e.greet();
    unsigned n = 0;
    std::string out;
    for (; !in.empty(); in.remove_prefix(std::min(in.size(), step))) {
        e.feed(in.substr(0, step));
        settle(e, n);
        fuzz::require(e.buffered() <= 512 * 1024, "bounded buffering");
        out += e.take_output();
    }
    e.peer_closed();
    fuzz::require(!e.take_message(), "no message after peer_closed");
    out += e.take_output();
    check_output(out);
    for (const auto& ev : e.take_events())
        fuzz::require(ev.find('\n') == std::string::npos && ev.find('\r') == std::string::npos, "event is one line");
    return 0;
}
