#include "listen_address.hpp"

namespace sconectl::cas::server {

Result<CasAddress> parse_listen_address(std::string_view text)
{
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()
      || (text.starts_with("[") && text[colon - 1] != ']')) {
    return fail(ErrorKind::usage,
                "listen address '" + std::string(text.substr(0, 100))
                    + "': expected host:port, e.g. 127.0.0.1:8081");
  }
  // parse_cas_address checks the host and the port but refuses port 0, which means "any port".
  const bool any_port = text.substr(colon + 1) == "0";
  auto address = parse_cas_address(any_port ? text.substr(0, colon) : text);
  if (!address) {
    return forward_error(std::move(address.error()));
  }
  if (any_port) {
    address->port = 0;
  }
  return address;
}

}  // namespace sconectl::cas::server
