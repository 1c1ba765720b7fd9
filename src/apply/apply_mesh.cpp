#include "sconectl/apply/apply_mesh.hpp"

#include "sconectl/chart/helm_chart.hpp"
#include "sconectl/policy/generate.hpp"
#include "sconectl/util/digest.hpp"
#include "sconectl/util/file_tree.hpp"
#include "sconectl/util/fs.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <map>

namespace sconectl::apply {

namespace {

constexpr std::string_view k_secret_reference = "$$SCONE::";
// Explicit values shorter than this are too common as ordinary text to scan for.
constexpr std::size_t k_min_scanned_value = 6;

constexpr std::size_t k_access_token_bytes = 32;

Result<std::string> random_access_token()
{
  std::array<std::uint8_t, k_access_token_bytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return fail(ErrorKind::internal, "no randomness for a service access token");
  }
  return to_hex(bytes);
}

bool is_access_token(const nlohmann::json& value)
{
  if (!value.is_string()) {
    return false;
  }
  const auto text = value.get<std::string>();
  const auto bytes = from_hex(text);
  return bytes && bytes->size() == k_access_token_bytes;
}

// The service access tokens recorded for the mesh's sessions, with a new one for each simulated
// service that has none yet; a token stays the same across applies, so running pods keep working.
Result<std::map<std::string, std::string>> access_tokens(const model::ResolvedMesh& mesh,
                                                         const MeshApplyOptions& options)
{
  std::map<std::string, std::string> tokens;
  const auto file = access_token_file(options.target_dir);
  std::error_code ignored;
  if (std::filesystem::exists(file, ignored)) {
    auto text = fs::read_text_file(file);
    if (!text) {
      return forward_error(std::move(text.error()));
    }
    const auto json = nlohmann::json::parse(*text, nullptr, false);
    if (!json.is_object()) {
      return fail(ErrorKind::io,
                  file.string() + ": not a JSON object of session names and access tokens; "
                                  "remove it to generate new tokens");
    }
    for (const auto& [session, token] : json.items()) {
      if (!is_access_token(token)) {
        return fail(ErrorKind::io,
                    file.string() + ": the token of session '" + session
                        + "' is not 64 hex digits; remove it to generate a new one");
      }
      tokens[session] = token.get<std::string>();
    }
  }
  std::map<std::string, std::string> used;
  for (const auto& service : mesh.services) {
    if (!service.simulation_runtime) {
      continue;
    }
    if (const auto found = tokens.find(service.session); found != tokens.end()) {
      used[service.session] = found->second;
      continue;
    }
    auto token = options.new_access_token ? options.new_access_token() : random_access_token();
    if (!token) {
      return forward_error(std::move(token.error()));
    }
    if (!is_access_token(*token)) {
      return fail(ErrorKind::internal, "a new service access token is not 64 hex digits");
    }
    used[service.session] = std::move(*token);
  }
  return used;
}

// A Secret manifest that holds `token` under key `token`, for `kubectl apply -f`.
std::string access_token_secret(const std::string& name,
                                const std::string& session,
                                const std::string& token)
{
  return "# The service access token of CAS session " + session
         + ": the pod presents it when it attests.\n"
           "# Keep this file private; install it with `kubectl apply -f` before the chart.\n"
           "apiVersion: v1\n"
           "kind: Secret\n"
           "metadata:\n"
           "  name: \""
         + name
         + "\"\n"
           "  labels:\n"
           "    app.kubernetes.io/managed-by: \"sconectl\"\n"
           "type: Opaque\n"
           "stringData:\n"
           "  token: \""
         + token + "\"\n";
}

// The chart and the plain manifests must not carry what only CAS may hold. The generator never
// puts it there; this check keeps helm_extra_values (free-form) from doing so by accident.
Result<void> refuse_confidential_values(const fs::FileTree& files,
                                        const std::string& where,
                                        const model::ResolvedMesh& mesh)
{
  for (const auto& [path, content] : files) {
    if (content.find(k_secret_reference) != std::string::npos) {
      return fail(ErrorKind::manifest,
                  where + "/" + path + " would contain a $$SCONE:: secret reference; secrets reach "
                  "programs through their CAS policy only (check helm_extra_values)");
    }
    for (const auto& service : mesh.services) {
      if (!service.access_token.empty()
          && content.find(service.access_token) != std::string::npos) {
        return fail(ErrorKind::manifest,
                    where + "/" + path + " would contain the service access token of service '"
                        + service.name + "'; it reaches pods through a Kubernetes Secret only");
      }
      for (const auto& secret : service.secrets) {
        for (const auto& value : {secret.value, secret.application_secret}) {
          if (value && value->size() >= k_min_scanned_value
              && content.find(*value) != std::string::npos) {
            return fail(ErrorKind::manifest,
                        where + "/" + path + " would contain the value of secret '" + secret.name
                            + "' of service '" + service.name
                            + "'; secrets reach programs through their CAS policy only (check "
                              "helm_extra_values)");
          }
        }
      }
    }
  }
  return {};
}

}  // namespace

std::filesystem::path access_token_file(const std::filesystem::path& target_dir)
{
  return target_dir / "cas" / "access-tokens.json";
}

std::filesystem::path session_file(const std::filesystem::path& target_dir, const std::string& name)
{
  return target_dir / "policies" / (name + ".yaml");
}

Result<MeshApplyResult> generate_mesh(const manifest::MeshManifest& manifest,
                                      const MeshApplyOptions& options)
{
  auto resolved = mesh::resolve_mesh(manifest,
                                     mesh::ResolveOptions{.target_dir = options.target_dir,
                                                          .pull = options.pull,
                                                          .measurer = options.measurer,
                                                          .images = options.images});
  if (!resolved) {
    return forward_error(std::move(resolved.error()));
  }
  auto tokens = access_tokens(*resolved, options);
  if (!tokens) {
    return forward_error(std::move(tokens.error()));
  }
  for (auto& service : resolved->services) {
    if (const auto found = tokens->find(service.session); found != tokens->end()) {
      service.access_token = found->second;
    }
  }
  auto sessions = policy::generate_sessions(*resolved, policy::PolicyOptions{.mode = options.mode});
  if (!sessions) {
    return forward_error(std::move(sessions.error()));
  }
  auto chart = chart::generate_chart(*resolved, chart::ChartOptions{.release = options.release});
  if (!chart) {
    return forward_error(std::move(chart.error()));
  }
  const auto chart_dir = options.target_dir / "helm";
  const auto manifests_dir = options.target_dir / "manifests";
  if (auto clean = refuse_confidential_values(chart->files, chart_dir.string(), *resolved);
      !clean) {
    return forward_error(std::move(clean.error()));
  }
  fs::FileTree manifests;
  if (options.write_manifests) {
    manifests = chart::render_manifests(*chart, chart->name);
    if (auto clean = refuse_confidential_values(manifests, manifests_dir.string(), *resolved);
        !clean) {
      return forward_error(std::move(clean.error()));
    }
  }

  fs::FileTree secrets;
  for (const auto& [key, values] : chart->values.at("services").items()) {
    const auto& scone = values.at("scone");
    const auto session = values.value("meshService", std::string());
    const auto service =
        std::find_if(resolved->services.begin(),
                     resolved->services.end(),
                     [&](const model::ResolvedService& entry) { return entry.name == session; });
    if (!scone.contains("accessTokenSecret") || service == resolved->services.end()
        || service->access_token.empty()) {
      continue;
    }
    const auto name = scone.at("accessTokenSecret").get<std::string>();
    secrets[name + ".yaml"] = access_token_secret(name, service->session, service->access_token);
  }

  MeshApplyResult result{.mesh = std::move(*resolved),
                         .sessions = std::move(*sessions),
                         .session_files = {},
                         .chart_name = chart->name,
                         .chart_dir = chart_dir,
                         .manifests_dir = std::nullopt};
  fs::FileTree policies;
  for (const auto& session : result.sessions) {
    policies[session.name + ".yaml"] = model::to_yaml(session.document);
    result.session_files.push_back(session_file(options.target_dir, session.name));
  }
  if (auto written = fs::replace_directory(
          options.target_dir / "policies", policies, fs::FileMode::private_to_owner);
      !written) {
    return forward_error(std::move(written.error()));
  }
  if (!tokens->empty()) {
    nlohmann::ordered_json recorded = nlohmann::ordered_json::object();
    for (const auto& [session, token] : *tokens) {
      recorded[session] = token;
    }
    if (auto written = fs::write_file_atomically(access_token_file(options.target_dir),
                                                 recorded.dump(2) + "\n",
                                                 fs::FileMode::private_to_owner);
        !written) {
      return forward_error(std::move(written.error()));
    }
  }
  const auto secrets_dir = options.target_dir / "k8s-secrets";
  if (auto written = fs::replace_directory(secrets_dir, secrets, fs::FileMode::private_to_owner);
      !written) {
    return forward_error(std::move(written.error()));
  }
  for (const auto& [path, content] : secrets) {
    result.secret_files.push_back(secrets_dir / path);
  }
  TRY(fs::replace_directory(chart_dir, chart->files));
  if (options.write_manifests) {
    TRY(fs::replace_directory(manifests_dir, manifests));
    result.manifests_dir = manifests_dir;
  }
  spdlog::debug("{} sessions written to {}",
                result.sessions.size(),
                (options.target_dir / "policies").string());
  return result;
}

Result<void> check_release(const std::string& release)
{
  if (release.empty()) {
    return {};
  }
  if (const auto problem = chart::check_release_name(release); !problem.empty()) {
    return fail(ErrorKind::usage, "--release '" + release + "': " + problem);
  }
  return {};
}

Result<bool> wants_upload(const manifest::MeshManifest& mesh, bool dry_run)
{
  using manifest::PolicyHandling;
  const auto* cas = manifest::cas_for_role(mesh, "cas");
  const auto mode = cas && cas->mode ? *cas->mode : PolicyHandling::upload;
  if (mode != PolicyHandling::upload && mode != PolicyHandling::no_upload && !dry_run) {
    return fail(ErrorKind::usage,
                "cas mode " + std::string(manifest::to_string(mode))
                    + " is not supported by this sconectl yet; supported modes: Upload, NoUpload "
                      "(or --dry-run, which uploads nothing)");
  }
  return !dry_run && mode == PolicyHandling::upload && cas != nullptr;
}

Result<cas::UploadReport> upload_policies(cas::CasConnection& connection,
                                          std::size_t concurrency,
                                          const std::vector<model::Session>& sessions,
                                          const std::filesystem::path& target_dir,
                                          const cas::CurrentVersions* known)
{
  auto record = cas::load_upload_record(target_dir);
  if (!record) {
    return forward_error(std::move(record.error()));
  }
  if (record->cas != connection.address.authority()) {
    *record = cas::UploadRecord{.cas = connection.address.authority()};  // another CAS: new chains
  }
  // `session get` and friends find this CAS, with its pin, from the record.
  record->cas_key = connection.pinned_key;
  cas::CasClient client(*connection.transport);
  auto report = cas::upload_sessions(
      client,
      sessions,
      connection.own_key_hash,
      *record,
      cas::UploadConcurrency{.requests = concurrency,
                             .another_transport = connection.another_transport},
      known);
  // What was accepted before a failure stays recorded.
  TRY(cas::save_upload_record(target_dir, *record));
  spdlog::debug("{} connection(s) to the CAS for this apply",
                connection.transport->connections_opened());
  return report;
}

}  // namespace sconectl::apply
