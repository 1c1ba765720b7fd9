#include "sconectl/policy/generate.hpp"

#include "sconectl/manifest/service_json.hpp"
#include "sconectl/model/enclave_mode.hpp"
#include "sconectl/model/export_match.hpp"

#include <algorithm>
#include <map>

namespace sconectl::policy {

namespace {

using manifest::SecretDefinition;
using model::ResolvedMesh;
using model::ResolvedService;
using model::Session;
using Json = model::SessionDocument;

Json access_policy(bool is_namespace)
{
  Json policy{{"read", {"CREATOR"}}, {"update", {"CREATOR"}}};
  if (is_namespace) {
    policy["create_sessions"] = {"CREATOR"};
  }
  return policy;
}

Json security(const ResolvedMesh& mesh, const PolicyOptions& options)
{
  const auto& policy = mesh.manifest.policy;
  std::vector<std::string> tolerate = policy.tolerate;
  if (options.mode == model::EnclaveMode::debug
      && std::find(tolerate.begin(), tolerate.end(), "debug-mode") == tolerate.end()) {
    tolerate.emplace_back("debug-mode");
  }
  Json attestation = Json::object();
  if (policy.maa) {
    attestation["mode"] = "maa";
    attestation["url"] = *policy.maa;
  }
  if (!tolerate.empty()) {
    attestation["tolerate"] = tolerate;
  }
  if (!policy.ignore_advisories.empty()) {
    attestation["ignore_advisories"] = policy.ignore_advisories;
  }
  if (attestation.empty()) {
    return Json();
  }
  return Json{{"attestation", std::move(attestation)}};
}

// Copies `keys` that `from` has into `to`, in the order given.
void copy_in_order(Json& to, const nlohmann::json& from, std::initializer_list<const char*> keys)
{
  for (const char* key : keys) {
    if (from.contains(key)) {
      to[key] = from.at(key);
    }
  }
}

// The session form of a secret definition: the manifest's one JSON mapping of it (to_json), in
// the order the CAS session language lists the fields, without the descriptor's `has_value`, and
// with `dns` (the older spelling of `san: ["dns:..."]`) folded into `san`.
Json secret_definition(const SecretDefinition& secret)
{
  const auto fields = manifest::to_json(secret, manifest::Disclosure::everything);
  Json json;
  copy_in_order(json,
                fields,
                {"name",
                 "kind",
                 "size",
                 "key_type",
                 "value",
                 "migrate",
                 "private_key",
                 "issuer",
                 "common_name"});
  std::vector<std::string> san;
  for (const auto& name : fields.value("dns", std::vector<std::string>{})) {
    san.push_back("dns:" + name);
  }
  for (const auto& name : fields.value("san", std::vector<std::string>{})) {
    san.push_back(name);
  }
  if (!san.empty()) {
    json["san"] = san;
  }
  copy_in_order(json,
                fields,
                {"endpoint",
                 "valid_for",
                 "tenant_id",
                 "client_id",
                 "application_secret",
                 "certificate_thumbprint",
                 "export_public"});
  if (fields.contains("export")) {
    Json exports = Json::array();
    for (const auto& exported : fields.at("export")) {
      Json entry = Json::object();
      copy_in_order(entry, exported, {"session", "session_hash", "namespace"});
      exports.push_back(std::move(entry));
    }
    json["export"] = std::move(exports);
  }
  return json;
}

// Who defines a secret of a given name: the service and the definition.
using SecretOwners =
    std::multimap<std::string, std::pair<const ResolvedService*, const SecretDefinition*>>;

SecretOwners secret_owners(const ResolvedMesh& mesh)
{
  SecretOwners owners;
  for (const auto& service : mesh.services) {
    for (const auto& secret : service.secrets) {
      owners.emplace(secret.name, std::make_pair(&service, &secret));
    }
  }
  return owners;
}

// The services that export secret `name` to `importer`'s session.
std::vector<const ResolvedService*> exporters_of(const SecretOwners& owners,
                                                 const ResolvedService& importer,
                                                 const std::string& name)
{
  std::vector<const ResolvedService*> found;
  const auto [first, last] = owners.equal_range(name);
  for (auto it = first; it != last; ++it) {
    const auto& [candidate, secret] = it->second;
    if (candidate == &importer) {
      continue;
    }
    const bool exported =
        std::any_of(secret->exports.begin(),
                    secret->exports.end(),
                    [&exporter = candidate, &importer](const manifest::SecretExport& entry) {
                      return model::export_reaches(
                          entry.session, entry.namespace_name, exporter->session, importer.session);
                    });
    if (exported) {
      found.push_back(candidate);
    }
  }
  return found;
}

Json volumes_of(const ResolvedService& service)
{
  Json volumes = Json::array();
  for (const auto& volume : service.volumes) {
    Json entry{{"name", volume.name}};
    if (volume.import) {
      entry["import"] = {{"session", volume.import->session}, {"volume", volume.import->volume}};
    }
    if (!volume.exports.empty()) {
      Json exports = Json::array();
      for (const auto& exported : volume.exports) {
        Json item{{"session", exported.session}};
        if (exported.session_hash) {
          item["session_hash"] = *exported.session_hash;
        }
        if (exported.update_policy) {
          item["update_policy"] = *exported.update_policy;
        }
        if (exported.volume_alias) {
          item["volume_alias"] = *exported.volume_alias;
        }
        exports.push_back(std::move(item));
      }
      entry["export"] = std::move(exports);
    }
    volumes.push_back(std::move(entry));
  }
  return volumes;
}

Json image_of(const ResolvedService& service)
{
  Json image{{"name", service.name}};
  if (!service.injection_files.empty()) {
    Json files = Json::array();
    for (const auto& file : service.injection_files) {
      files.push_back(Json{{"path", file.path}, {"content", file.content}});
    }
    image["injection_files"] = std::move(files);
  }
  Json mounts = Json::array();
  for (const auto& volume : service.volumes) {
    if (volume.path) {
      mounts.push_back(Json{{"name", volume.name}, {"path", *volume.path}});
    }
  }
  if (!mounts.empty()) {
    image["volumes"] = std::move(mounts);
  }
  return image;
}

class SessionBuilder {
 public:
  SessionBuilder(const ResolvedMesh& mesh, const PolicyOptions& options)
      : m_mesh(mesh), m_owners(secret_owners(mesh)), m_security(security(mesh, options))
  {
  }

  Session namespace_session() const
  {
    Json document{{"version", model::k_session_language_version},
                  {"name", m_mesh.manifest.policy.namespace_name},
                  {"access_policy", access_policy(true)}};
    return {.name = m_mesh.manifest.policy.namespace_name, .document = std::move(document)};
  }

  Session service_session(const ResolvedService& service)
  {
    Json program{{"name", service.name},
                 {"image_name", service.name},
                 {"command", service.command},
                 {"pwd", service.pwd}};
    Json environment = Json::object();
    for (const auto& [name, value] : service.environment) {
      environment[name] = value;
    }
    if (!environment.empty()) {
      program["environment"] = std::move(environment);
    }
    program["attestation"] = {{"mrenclave", {service.measurement}}};

    Json secrets = Json::array();
    for (const auto& secret : service.secrets) {
      secrets.push_back(secret_definition(secret));
    }
    for (const auto& name : service.imported_secrets) {
      if (auto source = exporter(service, name)) {
        secrets.push_back(
            Json{{"name", name}, {"import", {{"session", *source}, {"secret", name}}}});
      }
    }

    Json document{{"version", model::k_session_language_version},
                  {"name", service.session},
                  {"access_policy", access_policy(false)},
                  {"services", Json::array({std::move(program)})},
                  {"images", Json::array({image_of(service)})}};
    if (!secrets.empty()) {
      document["secrets"] = std::move(secrets);
    }
    if (auto volumes = volumes_of(service); !volumes.empty()) {
      document["volumes"] = std::move(volumes);
    }
    if (!m_security.is_null() || !service.access_token.empty()) {
      Json security = Json::object();
      if (!service.access_token.empty()) {
        security["service_access_token"] = service.access_token;
      }
      if (!m_security.is_null()) {
        security.update(m_security);
      }
      document["security"] = std::move(security);
    }
    return {.name = service.session, .document = std::move(document)};
  }

  [[nodiscard]] const std::vector<Diagnostic>& problems() const { return m_problems; }

 private:
  std::optional<std::string> exporter(const ResolvedService& service, const std::string& name)
  {
    const auto found = exporters_of(m_owners, service, name);
    if (found.size() == 1) {
      return found.front()->session;
    }
    std::string message;
    if (found.empty()) {
      message = "service '" + service.name + "' imports secret '" + name
                + "', but no other service of the mesh exports it to session '" + service.session
                + "' (give the secret `export: [{session: " + service.session
                + "}]` or `[{namespace: " + m_mesh.manifest.policy.namespace_name
                + "}]` in the service that defines it)";
    } else {
      message = "service '" + service.name + "' imports secret '" + name
                + "', which several services export to it (" + found[0]->name + ", "
                + found[1]->name + "); secret names must be unique in a mesh";
    }
    m_problems.push_back(Diagnostic{.severity = Severity::error,
                                    .file = m_mesh.manifest.source,
                                    .line = 0,
                                    .column = 0,
                                    .path = "services",
                                    .message = std::move(message)});
    return std::nullopt;
  }

  const ResolvedMesh& m_mesh;
  SecretOwners m_owners;
  Json m_security;
  std::vector<Diagnostic> m_problems;
};

}  // namespace

Result<std::vector<Session>> generate_sessions(const ResolvedMesh& mesh,
                                               const PolicyOptions& options)
{
  // A debug enclave's memory can be read from outside, and a simulated program has no enclave
  // at all: tolerating either hands it the secrets. So production does not take `debug-mode` or
  // `simulation` from the manifest; --mode debug says it on purpose.
  const auto& policy = mesh.manifest.policy;
  const auto tolerates = [&policy](std::string_view value) {
    return std::find(policy.tolerate.begin(), policy.tolerate.end(), value)
           != policy.tolerate.end();
  };
  for (const auto& [value, why] :
       {std::pair<std::string_view, std::string_view>{
            "debug-mode",
            "debug-mode would give the secrets to debug enclaves, whose memory can "
            "be read"},
        {"simulation",
         "simulation would give the secrets to programs that run without SGX, "
         "whose memory the host can read"}}) {
    if (options.mode != model::EnclaveMode::production || !tolerates(value)) {
      continue;
    }
    const auto at = policy.at.of("tolerate");
    return fail(
        Error{.kind = ErrorKind::manifest,
              .message = "policy.tolerate lists " + std::string(value) + " in production mode",
              .diagnostics = {Diagnostic{
                  .severity = Severity::error,
                  .file = mesh.manifest.source,
                  .line = at.line,
                  .column = at.column,
                  .path = "policy.tolerate",
                  .message = std::string(why) + "; remove it, or apply with --mode debug"}}});
  }
  std::vector<Diagnostic> simulated;
  for (std::size_t i = 0; i < mesh.services.size(); ++i) {
    if (!mesh.services[i].simulation_runtime || tolerates(model::k_simulation_toleration)) {
      continue;
    }
    const auto& service = mesh.manifest.services.at(i);
    const auto at = service.at.of("image");
    simulated.push_back(Diagnostic{
        .severity = Severity::error,
        .file = mesh.manifest.source,
        .line = at.line,
        .column = at.column,
        .path = "services[" + std::to_string(i) + "].image",
        .message = "service '" + service.name
                   + "' was built with --runtime sim (no SGX), "
                     "which the CAS configures only for a session that tolerates it: add "
                     "'simulation' to policy.tolerate and apply with --mode debug, or rebuild "
                     "the service without --runtime sim"});
  }
  if (!simulated.empty()) {
    return fail(Error{.kind = ErrorKind::manifest,
                      .message = "the mesh does not tolerate simulation",
                      .diagnostics = std::move(simulated)});
  }
  SessionBuilder builder(mesh, options);
  std::vector<Session> sessions{builder.namespace_session()};
  for (const auto& service : mesh.services) {
    sessions.push_back(builder.service_session(service));
  }
  if (!builder.problems().empty()) {
    return fail(Error{.kind = ErrorKind::manifest,
                      .message = "the mesh's secrets do not fit together",
                      .diagnostics = builder.problems()});
  }
  std::vector<Diagnostic> invalid;
  for (const auto& problem : model::validate_sessions(sessions)) {
    invalid.push_back(Diagnostic{.severity = Severity::error,
                                 .file = mesh.manifest.source,
                                 .line = 0,
                                 .column = 0,
                                 .path = "",
                                 .message = format(problem)});
  }
  if (!invalid.empty()) {
    return fail(Error{.kind = ErrorKind::manifest,
                      .message = "the generated sessions are not valid",
                      .diagnostics = std::move(invalid)});
  }
  return sessions;
}

}  // namespace sconectl::policy
