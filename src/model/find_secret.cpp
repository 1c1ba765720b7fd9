#include "sconectl/model/session.hpp"

namespace sconectl::model {

const SessionDocument* find_secret(const SessionDocument& session, const std::string& name)
{
  if (!session.is_object() || !session.contains("secrets") || !session.at("secrets").is_array()) {
    return nullptr;
  }
  for (const auto& secret : session.at("secrets")) {
    if (secret.is_object() && secret.contains("name") && secret.at("name").is_string()
        && secret.at("name").get_ref<const std::string&>() == name) {
      return &secret;
    }
  }
  return nullptr;
}

}  // namespace sconectl::model
