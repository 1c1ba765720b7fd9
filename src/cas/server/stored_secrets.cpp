#include "stored_secrets.hpp"

#include "sconectl/model/export_match.hpp"
#include "sconectl/util/digest.hpp"
#include "sconectl/util/x509.hpp"

#include <span>

namespace sconectl::cas::server {

namespace {

using Json = model::SessionDocument;

constexpr int k_max_import_hops = 8;

const Json* secret_definition(const Json& session, const std::string& name)
{
  if (!session.contains("secrets") || !session.at("secrets").is_array()) {
    return nullptr;
  }
  for (const auto& secret : session.at("secrets")) {
    if (secret.is_object() && secret.value("name", std::string()) == name) {
      return &secret;
    }
  }
  return nullptr;
}

std::string explicit_text(const Json& value)
{
  return value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<std::optional<StoredSecret>> find_stored_secret(Store& store,
                                                       const std::string& session,
                                                       const std::string& secret)
{
  std::string at_session = session;
  std::string at_secret = secret;
  for (int hop = 0; hop < k_max_import_hops; ++hop) {
    auto values = store.secrets(at_session);
    if (!values) {
      return forward_error(std::move(values.error()));
    }
    if (const auto found = values->find(at_secret); found != values->end()) {
      return std::optional<StoredSecret>(found->second);
    }
    auto version = store.current(at_session);
    if (!version) {
      return forward_error(std::move(version.error()));
    }
    const Json* definition =
        *version ? secret_definition((*version)->document, at_secret) : nullptr;
    if (definition == nullptr) {
      return std::optional<StoredSecret>();
    }
    if (definition->contains("value")) {
      return std::optional<StoredSecret>(
          StoredSecret{.kind = definition->value("kind", std::string()),
                       .value = explicit_text(definition->at("value"))});
    }
    const auto& import = definition->contains("import") ? definition->at("import") : Json();
    if (!import.is_object()) {
      return std::optional<StoredSecret>();
    }
    at_session = model::absolute_session_name(import.value("session", std::string()), at_session);
    at_secret = import.value("secret", std::string());
  }
  return std::optional<StoredSecret>();
}

Result<std::optional<std::string>> public_value_text(const Json& session,
                                                     const std::string& name,
                                                     const SecretValues& values)
{
  const Json* definition = secret_definition(session, name);
  if (definition == nullptr) {
    return std::optional<std::string>();
  }
  if (definition->contains("value")) {
    return std::optional<std::string>(explicit_text(definition->at("value")));
  }
  const auto kind = definition->value("kind", std::string());
  const auto stored = values.find(name);
  if (kind == "public-key") {
    const auto key = values.find(definition->value("private_key", std::string()));
    if (key == values.end() || key->second.kind != "private-key") {
      return std::optional<std::string>();
    }
    auto public_key = x509::public_key_of(key->second.value);
    if (!public_key) {
      return forward_error(std::move(public_key.error()));
    }
    return std::optional<std::string>(std::move(*public_key));
  }
  if (stored == values.end()) {
    return std::optional<std::string>();
  }
  const auto& value = stored->second.value;
  if (kind == "binary") {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(value.data());
    return std::optional<std::string>(to_hex(std::span<const std::uint8_t>(bytes, value.size())));
  }
  if (kind == "private-key") {
    auto public_key = x509::public_key_of(value);
    if (!public_key) {
      return forward_error(std::move(public_key.error()));
    }
    return std::optional<std::string>(std::move(*public_key));
  }
  return std::optional<std::string>(value);
}

}  // namespace sconectl::cas::server
