#include "stored_secrets.hpp"

#include "sconectl/model/export_match.hpp"
#include "sconectl/util/digest.hpp"
#include "sconectl/util/x509.hpp"

#include <span>

namespace sconectl::cas::server {

namespace {

using Json = model::SessionDocument;

constexpr int k_max_import_hops = 8;

// Whether an export entry of `definition` (a secret of session `exporter`) reaches the importer.
bool is_exported_to(const Json& definition, const std::string& exporter, const Importer& importer)
{
  const auto text = [](const Json& entry, const char* key) -> std::optional<std::string> {
    if (entry.contains(key) && entry.at(key).is_string()) {
      return entry.at(key).get<std::string>();
    }
    return std::nullopt;
  };
  for (const auto& [exported, at] : model::export_entries(definition)) {
    const auto& entry = *exported;
    if (!entry.is_object()
        || !model::export_reaches(
            text(entry, "session"), text(entry, "namespace"), exporter, importer.session)) {
      continue;
    }
    const auto pinned = text(entry, "session_hash");
    if (!pinned || *pinned == importer.hash) {
      return true;
    }
  }
  return false;
}

std::string explicit_text(const Json& value)
{
  return value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<std::optional<StoredSecret>> find_stored_secret(Store& store,
                                                       const std::string& session,
                                                       const std::string& secret,
                                                       const std::optional<Importer>& importer)
{
  std::string at_session = session;
  std::string at_secret = secret;
  std::optional<Importer> asking = importer;
  for (int hop = 0; hop < k_max_import_hops; ++hop) {
    auto version = store.current(at_session);
    if (!version) {
      return forward_error(std::move(version.error()));
    }
    if (!*version) {
      return std::optional<StoredSecret>();
    }
    const auto& source = **version;
    if (asking && asking->source_hash && *asking->source_hash != source.hash) {
      return fail(ErrorKind::manifest,
                  "session '" + asking->session + "' imports secret '" + at_secret
                      + "' from version " + *asking->source_hash + " of session '" + at_session
                      + "', which is now at version " + source.hash);
    }
    const Json* definition = model::find_secret(source.document, at_secret);
    if (definition == nullptr) {
      return std::optional<StoredSecret>();
    }
    if (asking && !is_exported_to(*definition, at_session, *asking)) {
      return fail(ErrorKind::manifest,
                  "session '" + at_session + "' does not export secret '" + at_secret + "' to '"
                      + asking->session + "' (or not to its current version)");
    }
    auto values = store.secrets(at_session);
    if (!values) {
      return forward_error(std::move(values.error()));
    }
    if (const auto found = values->find(at_secret); found != values->end()) {
      return std::optional<StoredSecret>(found->second);
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
    const auto pin = import.value("session_hash", std::string());
    asking = Importer{.session = at_session,
                      .hash = source.hash,
                      .source_hash = pin.empty() ? std::nullopt : std::optional(pin)};
    at_session = model::absolute_session_name(import.value("session", std::string()), at_session);
    at_secret = import.value("secret", std::string());
  }
  return std::optional<StoredSecret>();
}

Result<std::optional<std::string>> public_value_text(const Json& session,
                                                     const std::string& name,
                                                     const SecretValues& values)
{
  const Json* definition = model::find_secret(session, name);
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
