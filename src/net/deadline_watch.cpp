// net/deadline_watch.cpp: see deadline_watch.hpp.
#include "net/deadline_watch.hpp"

namespace postrider::net {

deadline_watch::deadline_watch(boost::asio::any_io_executor ex, std::function<void()> on_expire)
    : st_(std::make_shared<state>(std::move(ex)))
{
    st_->on_expire = std::move(on_expire);
}

deadline_watch::~deadline_watch()
{
    st_->alive = false;
    st_->on_expire = nullptr;
    st_->timer.cancel();
}

void deadline_watch::expire_at(clock::time_point d)
{
    state& s = *st_;
    s.deadline = d;
    s.expired = false;
    if (s.waiting && s.armed <= d) return;  // it fires early, sees the later deadline and re-arms once
    s.armed = d;
    s.timer.expires_at(d);  // a pending wait is cancelled: its handler starts the wait for d
    if (!s.waiting) wait(st_);
}

void deadline_watch::wait(const std::shared_ptr<state>& st)
{
    st->waiting = true;
    st->timer.async_wait([st](const boost::system::error_code& ec) {
        state& s = *st;
        s.waiting = false;
        if (!s.alive) return;
        if (ec == boost::asio::error::operation_aborted) {  // expire_at moved the timer earlier
            wait(st);
            return;
        }
        if (s.deadline <= clock::now()) {
            s.expired = true;
            s.deadline = s.armed = clock::time_point::max();
            if (s.on_expire) s.on_expire();
            return;  // the next expire_at starts a new wait
        }
        if (s.deadline == clock::time_point::max()) return;  // disarmed: the next expire_at starts a wait
        s.armed = s.deadline;
        s.timer.expires_at(s.deadline);
        wait(st);
    });
}

}  // namespace postrider::net
