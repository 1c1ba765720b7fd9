#include "sconectl/model/session.hpp"
#include "sconectl/util/digest.hpp"

namespace sconectl::model {

std::string session_hash(const SessionDocument& session)
{
  // nlohmann::json keeps object keys in a sorted std::map: converting gives the canonical order.
  nlohmann::json canonical = session;
  // A null predecessor is no predecessor: a first version as SCONE's CAS shows it
  // (`predecessor: ~`) hashes as the version that was stored without one.
  if (const auto found = canonical.find("predecessor");
      found != canonical.end() && found->is_null()) {
    canonical.erase(found);
  }
  const auto text = canonical.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return to_hex(sha256(text));
}

}  // namespace sconectl::model
