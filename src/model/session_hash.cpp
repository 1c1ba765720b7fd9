#include "sconectl/model/session.hpp"
#include "sconectl/util/digest.hpp"

namespace sconectl::model {

std::string session_hash(const SessionDocument& session)
{
  // nlohmann::json keeps object keys in a sorted std::map: converting gives the canonical order.
  const nlohmann::json canonical = session;
  const auto text = canonical.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return to_hex(sha256(text));
}

}  // namespace sconectl::model
