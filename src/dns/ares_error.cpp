// dns/ares_error.cpp: the "dns" error category (see ares_error.hpp).
#include "dns/ares_error.hpp"

#include <ares.h>

#include <string>

namespace postrider::dns {
namespace {

class dns_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "dns"; }
    std::string message(int v) const override
    {
        switch (static_cast<errc>(v)) {
        case errc::null_mx: return "domain does not accept mail (null MX)";
        case errc::no_usable_host: return "no usable MX host name";
        case errc::no_address: return "MX host has no address";
        }
        return ares_strerror(v);
    }
};

}  // namespace

const std::error_category& category() noexcept
{
    static const dns_category c;
    return c;
}

std::error_code make_ares_error(int status) noexcept
{
    return status == ARES_SUCCESS ? std::error_code{} : std::error_code{status, category()};
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

bool is_no_data(std::error_code ec) noexcept { return ec.category() == category() && ec.value() == ARES_ENODATA; }

bool is_permanent(std::error_code ec) noexcept
{
    if (ec.category() != category()) return false;
    switch (ec.value()) {
    case ARES_ENOTFOUND:  // NXDOMAIN: the name does not exist
    case ARES_ENODATA:    // the name exists but has no record of the type asked for
    case ARES_EBADNAME:   // not a name we can ask about
    case static_cast<int>(errc::null_mx):
        return true;
    default:  // SERVFAIL, REFUSED, timeouts, connection trouble, out of memory, ...
        return false;
    }
}

}  // namespace postrider::dns
