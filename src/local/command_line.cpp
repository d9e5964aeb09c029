// local/command_line.cpp: see command_line.hpp.
#include "local/command_line.hpp"

#include <string_view>

namespace postrider::local {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// is_control - NUL and the C0 controls other than tab, and DEL.
bool is_control(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

// is_shell_operator - characters that a shell would treat as a pipe, list, redirection,
//                     subshell or substitution.
bool is_shell_operator(char c) { return std::string_view("|&;<>()$`").find(c) != std::string_view::npos; }

command_split refuse(std::string why)
{
    command_split r;
    r.error = std::move(why);
    return r;
}

// splitter - one pass over the text; words_ collects argv.
class splitter {
public:
    explicit splitter(std::string_view text) : text_(text) {}

    // run - "" or the reason the text is refused.
    std::string run()
    {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (is_blank(c)) {
                end_word();
                ++pos_;
                continue;
            }
            in_word_ = true;
            std::string err = c == '\'' ? single_quoted() : c == '"' ? double_quoted() : unquoted(c);
            if (!err.empty()) return err;
        }
        end_word();
        return {};
    }

    std::vector<std::string> words_;

private:
    void end_word()
    {
        if (in_word_) words_.push_back(std::move(word_));
        word_.clear();
        in_word_ = false;
    }
    std::string unquoted(char c)
    {
        if (is_shell_operator(c))
            return std::string("unquoted shell operator '") + c + "' (no shell runs the command; quote it)";
        if (c == '\\') {
            if (pos_ + 1 == text_.size()) return "trailing backslash";
            word_ += text_[pos_ + 1];
            pos_ += 2;
            return {};
        }
        word_ += c;
        ++pos_;
        return {};
    }
    std::string single_quoted()
    {
        const auto close = text_.find('\'', pos_ + 1);
        if (close == std::string_view::npos) return "unterminated single quote";
        word_.append(text_.substr(pos_ + 1, close - pos_ - 1));
        pos_ = close + 1;
        return {};
    }
    std::string double_quoted()
    {
        for (++pos_; pos_ < text_.size(); ++pos_) {
            char c = text_[pos_];
            if (c == '"') {
                ++pos_;
                return {};
            }
            if (c == '\\' && pos_ + 1 < text_.size() && (text_[pos_ + 1] == '"' || text_[pos_ + 1] == '\\'))
                c = text_[++pos_];
            word_ += c;
        }
        return "unterminated double quote";
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::string word_;
    bool in_word_ = false;
};

}  // namespace

command_split split_command(std::string_view command, const command_limits& limits)
{
    if (command.size() > limits.max_bytes)
        return refuse("command longer than " + std::to_string(limits.max_bytes) + " octets");
    for (char c : command)
        if (is_control(c)) return refuse(c == '\0' ? "NUL in command" : "control character in command");
    splitter s(command);
    if (auto err = s.run(); !err.empty()) return refuse(std::move(err));
    if (s.words_.empty()) return refuse("empty command");
    if (s.words_.size() > limits.max_args)
        return refuse("more than " + std::to_string(limits.max_args) + " arguments");
    if (s.words_.front().empty() || s.words_.front().front() != '/')
        return refuse("program is not an absolute path (no PATH search)");
    command_split r;
    r.argv = std::move(s.words_);
    return r;
}

}  // namespace postrider::local
