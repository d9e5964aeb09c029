// smtp/line_reader.cpp: command line framing (see line_reader.hpp).
#include "smtp/line_reader.hpp"

namespace postrider::smtp {

void line_reader::reset() noexcept
{
    buf_.clear();
    discarding_ = false;
    delivered_ = false;
}

std::optional<framed_line> line_reader::next(std::string_view& in)
{
    if (delivered_) {
        buf_.clear();
        delivered_ = false;
    }
    const auto lf = in.find('\n');
    if (lf == std::string_view::npos) {
        // Hold at most max_ - 1 octets: the longest legal line minus its LF.
        if (!discarding_ && buf_.size() + in.size() <= max_ - 1)
            buf_.append(in);
        else {
            discarding_ = true;
            buf_.clear();
        }
        in.remove_prefix(in.size());
        return std::nullopt;
    }
    const auto tail = in.substr(0, lf);
    in.remove_prefix(lf + 1);
    return finish(tail);
}

// finish - the LF has arrived: apply the limit and strip the CR.
std::optional<framed_line> line_reader::finish(std::string_view tail)
{
    const std::size_t total = buf_.size() + tail.size();
    const char last = !tail.empty() ? tail.back() : (buf_.empty() ? '\0' : buf_.back());
    const bool has_cr = total > 0 && last == '\r';
    // RFC 5321 4.5.3.1.4: the limit counts the CRLF. A bare LF is charged two
    // octets as well, so both forms allow the same text length.
    const std::size_t text_len = total - (has_cr ? 1 : 0);
    const bool too_long = discarding_ || text_len + 2 > max_;
    discarding_ = false;
    if (too_long) {
        buf_.clear();
        return framed_line{{}, true, false};
    }
    buf_.append(tail);
    if (has_cr)
        buf_.pop_back();
    delivered_ = true;
    return framed_line{buf_, false, !has_cr};
}

}  // namespace postrider::smtp
