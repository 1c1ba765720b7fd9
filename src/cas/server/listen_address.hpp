#pragma once

// Private to the local CAS: where it listens.

#include "sconectl/cas/api.hpp"
#include "sconectl/util/error.hpp"

#include <string_view>

namespace sconectl::cas::server {

// "host:port" or "[v6]:port" as for CAS addresses, except that port 0 (any free port) is allowed
// and the port is required.
[[nodiscard]] Result<CasAddress> parse_listen_address(std::string_view text);

}  // namespace sconectl::cas::server
