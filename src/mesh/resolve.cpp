#include "sconectl/mesh/resolve.hpp"

#include "sconectl/image/service_descriptor.hpp"
#include "sconectl/manifest/image_reference.hpp"
#include "sconectl/manifest/service_json.hpp"
#include "sconectl/manifest/variables.hpp"
#include "sconectl/model/content_measurement.hpp"
#include "sconectl/util/strings.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <system_error>

namespace sconectl::mesh {

namespace stdfs = std::filesystem;
using model::MetadataSource;
using model::ResolvedMesh;
using model::ResolvedService;

namespace {

using manifest::MeshManifest;
using manifest::MeshService;
using manifest::SourcePosition;

constexpr std::string_view k_runtime_prefix = "SCONE_";

// Collects problems against the mesh file, each naming the service's field.
class Problems {
 public:
  explicit Problems(std::string file) : m_file(std::move(file)) {}

  void error(SourcePosition at, std::string path, std::string message)
  {
    add(Severity::error, at, std::move(path), std::move(message));
  }
  void warning(SourcePosition at, std::string path, std::string message)
  {
    add(Severity::warning, at, std::move(path), std::move(message));
  }
  // A problem that is not the manifest's fault (Docker down, a failed pull): it still points at
  // the service it concerns, but the run fails with `kind`, not as invalid input.
  void failure(SourcePosition at, std::string path, const Error& cause)
  {
    if (!m_failure_kind) {
      m_failure_kind = cause.kind;
    }
    add(Severity::error, at, std::move(path), cause.describe());
  }
  [[nodiscard]] std::vector<Diagnostic>& all() { return m_diagnostics; }
  [[nodiscard]] ErrorKind kind() const { return m_failure_kind.value_or(ErrorKind::manifest); }

 private:
  void add(Severity severity, SourcePosition at, std::string path, std::string message)
  {
    m_diagnostics.push_back(Diagnostic{.severity = severity,
                                       .file = m_file,
                                       .line = at.line,
                                       .column = at.column,
                                       .path = std::move(path),
                                       .message = std::move(message)});
  }

  std::string m_file;
  std::optional<ErrorKind> m_failure_kind;
  std::vector<Diagnostic> m_diagnostics;
};

// The mesh's image references were checked when the mesh was read; one that does not parse
// cannot reach this point, and would be taken as a bare path.
manifest::ImageReference reference_of(const std::string& image)
{
  if (auto parsed = manifest::parse_image_reference(image)) {
    return std::move(*parsed);
  }
  return manifest::ImageReference{.path = image};
}

struct DescriptorMatch {
  stdfs::path path;
  image::ServiceDescriptor descriptor;
};

// The descriptors under target/services by image reference (without digest), read once. When
// two describe the same image, the first in file-name order wins, so the choice is deterministic.
std::map<std::string, DescriptorMatch> read_descriptors(const stdfs::path& target_dir)
{
  std::error_code ec;
  std::vector<stdfs::path> files;
  for (stdfs::directory_iterator it(target_dir / "services", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".json") {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, DescriptorMatch> by_image;
  for (const auto& file : files) {
    if (auto descriptor = image::read_descriptor(target_dir, file.stem().string())) {
      const auto reference = descriptor->image_reference;
      by_image.try_emplace(reference,
                           DescriptorMatch{.path = file, .descriptor = std::move(*descriptor)});
    }
  }
  return by_image;
}

// The registry digest among an image's RepoDigests ("repo@sha256:...") for its repository.
std::optional<std::string> registry_digest(const image::ImageInfo& info,
                                           const std::string& reference)
{
  const auto parsed = reference_of(reference);
  if (parsed.digest) {
    return parsed.digest;
  }
  const auto repository = parsed.repository();
  for (const auto& entry : info.repo_digests) {
    const auto listed = manifest::parse_image_reference(entry);
    if (listed && listed->digest && listed->repository() == repository) {
      return listed->digest;
    }
  }
  return std::nullopt;
}

struct Source {
  manifest::ServiceMetadata metadata;
  MetadataSource kind = MetadataSource::descriptor;
  std::string detail;
  std::string measurement;
  std::string measurement_method;
  std::optional<std::string> image_digest;
  bool simulation_runtime = false;
};

std::optional<Source> from_descriptor(
    const MeshService& service,
    const std::string& path,
    DescriptorMatch match,
    const std::function<const std::map<std::string, std::string>*()>& local_ids,
    Problems& problems)
{
  const auto& descriptor = match.descriptor;
  const auto at = service.at.of("image");
  const auto where = match.path.string();
  if (const auto pinned = reference_of(service.image).digest;
      pinned && descriptor.image_digest != pinned) {
    problems.error(at,
                   path + ".image",
                   "the mesh pins " + *pinned + " but " + where + " records "
                       + descriptor.image_digest.value_or("no pushed digest")
                       + "; apply the service manifest again or fix the digest");
    return std::nullopt;
  }
  // A descriptor is only trusted for the image it was written for.
  if (const auto* ids = local_ids(); ids != nullptr) {
    const auto local = ids->find(descriptor.image_reference);
    if (local != ids->end() && local->second != descriptor.image_id) {
      problems.error(at,
                     path + ".image",
                     "the local image " + descriptor.image_reference + " is " + local->second
                         + ", but " + where + " describes " + descriptor.image_id
                         + "; run 'sconectl apply -f' on the service manifest again");
      return std::nullopt;
    }
  }
  auto metadata = manifest::service_metadata_from_json(descriptor.service);
  if (!metadata) {
    problems.error(at, path + ".image", where + ": " + metadata.error().message);
    return std::nullopt;
  }
  return Source{.metadata = std::move(*metadata),
                .kind = MetadataSource::descriptor,
                .detail = where,
                .measurement = descriptor.measurement,
                .measurement_method = descriptor.measurement_method,
                .image_digest = descriptor.image_digest,
                .simulation_runtime = descriptor.runtime == image::k_runtime_sim};
}

std::optional<Source> from_image(const MeshService& service,
                                 const std::string& path,
                                 const ResolveOptions& options,
                                 Problems& problems)
{
  const auto at = service.at.of("image");
  const auto field = path + ".image";
  const auto descriptors = (options.target_dir / "services").string();
  if (options.images == nullptr) {
    problems.error(at,
                   field,
                   "no service descriptor in " + descriptors + " describes " + service.image
                       + ", and without Docker its labels cannot be read; run 'sconectl apply -f "
                         "service.yaml -t "
                       + options.target_dir.string() + "' first");
    return std::nullopt;
  }
  auto info = options.images->inspect(service.image, options.pull);
  if (!info) {
    problems.failure(at, field, info.error());
    return std::nullopt;
  }
  if (!*info) {
    problems.error(at,
                   field,
                   "image " + service.image + " is not available locally"
                       + (options.pull ? "" : " (--no-pull)") + ", and no service descriptor in "
                       + descriptors + " describes it");
    return std::nullopt;
  }
  const auto& labels = (*info)->labels;
  const auto label = labels.find(image::k_label_service);
  if (label == labels.end()) {
    problems.error(at,
                   field,
                   "image " + service.image + " has no " + image::k_label_service
                       + " label: it was not built by 'sconectl apply -f service.yaml'");
    return std::nullopt;
  }
  auto metadata =
      manifest::service_metadata_from_json(nlohmann::json::parse(label->second, nullptr, false));
  if (!metadata) {
    problems.error(at, field, "image " + service.image + ": " + metadata.error().message);
    return std::nullopt;
  }
  const auto runtime_label = labels.find(image::k_label_runtime);
  const bool simulation_runtime =
      runtime_label != labels.end() && runtime_label->second == image::k_runtime_sim;
  std::vector<std::string> not_measured;
  for (const auto& file : metadata->injection_files) {
    not_measured.push_back(file.path);
  }
  auto measured = options.images->measure(image::MeasureRequest{
      .reference = service.image,
      .info = **info,
      .command = metadata->command,
      .pwd = metadata->pwd.value_or("/"),
      .measurer = options.measurer,
      .runtime =
          simulation_runtime ? std::optional<std::string>(model::k_sim_runtime_path) : std::nullopt,
      .not_measured = simulation_runtime ? not_measured : std::vector<std::string>(),
      .scratch_dir = options.target_dir / "build"});
  if (!measured) {
    problems.failure(at, field, measured.error().with_context("measuring " + service.image));
    return std::nullopt;
  }
  return Source{.metadata = std::move(*metadata),
                .kind = MetadataSource::image_labels,
                .detail = "labels of " + service.image,
                .measurement = std::move(*measured),
                .measurement_method = std::string(image::measurer_name(options.measurer)),
                .image_digest = registry_digest(**info, service.image),
                .simulation_runtime = simulation_runtime};
}

// The mesh `env` values that apply to `service`, later blocks overriding earlier ones.
std::map<std::string, std::string> settings_for(const MeshManifest& mesh,
                                                const std::string& service)
{
  std::map<std::string, std::string> settings;
  for (const auto* block_name : {"global", "helm"}) {
    for (const auto& block : mesh.environment) {
      if (block.service == block_name) {
        for (const auto& variable : block.variables) {
          settings[variable.name] = variable.value;
        }
      }
    }
  }
  for (const auto& block : mesh.environment) {
    if (block.service == service && block.service != "global" && block.service != "helm") {
      for (const auto& variable : block.variables) {
        settings[variable.name] = variable.value;
      }
    }
  }
  return settings;
}

class ServiceResolver {
 public:
  ServiceResolver(const MeshManifest& mesh,
                  const MeshService& service,
                  std::string path,
                  Source source,
                  Problems& problems)
      : m_mesh(mesh),
        m_service(service),
        m_path(std::move(path)),
        m_source(std::move(source)),
        m_problems(problems),
        m_session(mesh.policy.namespace_name + "/" + service.name),
        m_settings(settings_for(mesh, service.name))
  {
  }

  std::optional<ResolvedService> resolve()
  {
    const auto& metadata = m_source.metadata;
    ResolvedService resolved{.name = m_service.name,
                             .session = m_session,
                             .image = m_service.image,
                             .image_digest = m_source.image_digest,
                             .source = m_source.kind,
                             .source_detail = m_source.detail,
                             .measurement = m_source.measurement,
                             .measurement_method = m_source.measurement_method,
                             .simulation_runtime = m_source.simulation_runtime,
                             .command = metadata.command,
                             .pwd = metadata.pwd.value_or("/"),
                             .environment = {},
                             .settings = m_settings,
                             .secrets = {},
                             .imported_secrets = metadata.imported_secrets,
                             .injection_files = {},
                             .volumes = metadata.volumes,
                             .helm_extra_values = m_service.helm_extra_values};
    resolve_environment(resolved);
    resolve_injection_files(resolved);
    resolve_secrets(resolved);
    if (m_failed) {
      return std::nullopt;
    }
    return resolved;
  }

 private:
  std::optional<std::string> lookup(const std::string& name) const
  {
    if (name == "namespace") {
      return m_mesh.policy.namespace_name;
    }
    if (name == "service_name") {
      return m_service.name;
    }
    if (name == "session") {
      return m_session;
    }
    if (const auto found = m_globals.find(name); found != m_globals.end()) {
      return found->second;
    }
    if (const auto found = m_settings.find(name); found != m_settings.end()) {
      return found->second;
    }
    return std::nullopt;
  }

  std::string substitute(const std::string& text, const std::string& what)
  {
    auto result = manifest::substitute_mesh_references(
        text, [this](const std::string& name) { return lookup(name); });
    // A global without a value was reported already; do not report each use of it again.
    std::erase_if(result.undefined,
                  [this](const std::string& name) { return m_unset_globals.count(name) > 0; });
    if (!result.undefined.empty()) {
      error(what + " refers to {{" + strings::join(result.undefined, ", ")
            + "}}, which neither the mesh env nor the service sets");
    }
    return std::move(result.text);
  }

  void resolve_environment(ResolvedService& resolved)
  {
    const auto& metadata = m_source.metadata;
    std::set<std::string> local_names;
    for (const auto& variable : metadata.local_environment) {
      local_names.insert(variable.name);
    }
    const auto withheld = [&metadata](const std::string& name) {
      return std::find(metadata.withheld_environment_values.begin(),
                       metadata.withheld_environment_values.end(),
                       name)
             != metadata.withheld_environment_values.end();
    };
    for (const auto& variable : metadata.global_environment) {
      if (const auto set = m_settings.find(variable.name); set != m_settings.end()) {
        m_globals[variable.name] = set->second;
      } else if (variable.value) {
        m_globals[variable.name] = *variable.value;
      } else if (withheld(variable.name)) {
        m_unset_globals.insert(variable.name);
        error("the default of the service's global variable " + variable.name + " is not in "
              + m_source.detail
              + " (images never carry environment values); apply the service manifest with the "
                "same -t so its descriptor is found, or set it in the mesh env");
      } else {
        m_unset_globals.insert(variable.name);
        error("the service's global variable " + variable.name
              + " has no default and the mesh env sets it for neither 'global', 'helm' nor '"
              + m_service.name + "'");
      }
    }
    for (const auto& [name, value] : m_globals) {
      if (!name.starts_with(k_runtime_prefix)) {
        resolved.environment[name] = value;
      }
    }
    for (const auto& variable : metadata.local_environment) {
      if (variable.name.starts_with(k_runtime_prefix)) {
        continue;
      }
      if (withheld(variable.name) && !variable.value) {
        error("the value of environment.local " + variable.name + " is not in " + m_source.detail
              + " (images never carry environment values); apply the service manifest with the "
                "same -t so its descriptor is found");
        continue;
      }
      resolved.environment[variable.name] =
          substitute(variable.value.value_or(""), "environment.local " + variable.name);
    }
    for (const auto& [name, value] : m_settings) {
      if (local_names.count(name) > 0) {
        m_problems.warning(m_service.at.of("image"),
                           m_path,
                           "the mesh env sets " + name + ", but the service fixes it in "
                               "environment.local; the service's value is kept");
      }
    }
  }

  void resolve_injection_files(ResolvedService& resolved)
  {
    for (const auto& file : m_source.metadata.injection_files) {
      if (!file.content) {
        error("the content of injection file " + file.path + " is not in " + m_source.detail
              + " (images never carry it); apply the service manifest with the same -t so "
                "its descriptor is found");
        continue;
      }
      resolved.injection_files.push_back(
          {.path = file.path, .content = substitute(*file.content, "injection file " + file.path)});
    }
  }

  void resolve_secrets(ResolvedService& resolved)
  {
    if (m_service.image_secrets) {
      resolved.secrets = m_service.image_secret_definitions;
    } else {
      if (!m_source.metadata.withheld_secret_values.empty()) {
        error("the explicit values of secrets " + strings::join(m_source.metadata.withheld_secret_values, ", ")
              + " are not in " + m_source.detail
              + " (images never carry them); apply the service manifest with the same -t, or "
                "give the secrets in an image_secrets file");
      }
      resolved.secrets = m_source.metadata.secrets;
    }
    for (auto& secret : resolved.secrets) {
      for (auto& exported : secret.exports) {
        if (exported.session) {
          exported.session = substitute(*exported.session, "secret " + secret.name + " export");
        }
        if (exported.namespace_name) {
          exported.namespace_name =
              substitute(*exported.namespace_name, "secret " + secret.name + " export");
        }
      }
    }
  }

  void error(std::string message)
  {
    m_failed = true;
    m_problems.error(m_service.at.of("image"), m_path, std::move(message));
  }

  const MeshManifest& m_mesh;
  const MeshService& m_service;
  std::string m_path;
  Source m_source;
  Problems& m_problems;
  const std::string m_session;
  // The mesh `env` values for this service; see settings_for().
  const std::map<std::string, std::string> m_settings;
  std::map<std::string, std::string> m_globals;
  std::set<std::string> m_unset_globals;
  bool m_failed = false;
};

void refuse_unsupported_overrides(const MeshService& service,
                                  const std::string& path,
                                  Problems& problems)
{
  const std::pair<const char*, const std::optional<std::string>&> overrides[] = {
      {"image_policy", service.image_policy},
      {"env", service.env_file},
      {"helm_chart", service.helm_chart}};
  for (const auto& [field, value] : overrides) {
    if (value) {
      problems.error(service.at.of(field),
                     path + "." + field,
                     std::string("overriding the image's ") + field
                         + " is not supported by sconectl; the policy and chart are generated "
                           "from the service's metadata. Remove the field");
    }
  }
}

}  // namespace

Result<ResolvedMesh> resolve_mesh(const MeshManifest& mesh, const ResolveOptions& options)
{
  Problems problems(mesh.source);
  // The local images' ids, read once and only when a descriptor needs checking. Without Docker
  // there is nothing to compare with, and descriptors are used as they are.
  std::optional<std::map<std::string, std::string>> ids;
  bool ids_read = false;
  const auto descriptors = read_descriptors(options.target_dir);
  const auto local_ids = [&]() -> const std::map<std::string, std::string>* {
    if (!ids_read && options.images != nullptr) {
      ids_read = true;
      std::vector<std::string> references;
      for (const auto& service : mesh.services) {
        if (const auto match = descriptors.find(reference_of(service.image).without_digest());
            match != descriptors.end()) {
          references.push_back(match->second.descriptor.image_reference);
        }
      }
      if (auto listed = options.images->local_image_ids(references)) {
        ids = std::move(*listed);
      } else {
        spdlog::debug("cannot list local images: {}", listed.error().describe());
      }
    }
    return ids ? &*ids : nullptr;
  };
  ResolvedMesh resolved{.manifest = mesh, .services = {}, .warnings = {}};
  for (std::size_t i = 0; i < mesh.services.size(); ++i) {
    const auto& service = mesh.services[i];
    const auto path = "services[" + std::to_string(i) + "]";
    refuse_unsupported_overrides(service, path, problems);
    const auto match = descriptors.find(reference_of(service.image).without_digest());
    auto source = match != descriptors.end()
                      ? from_descriptor(service, path, match->second, local_ids, problems)
                      : from_image(service, path, options, problems);
    if (!source) {
      continue;
    }
    ServiceResolver resolver(mesh, service, path, std::move(*source), problems);
    if (auto done = resolver.resolve()) {
      resolved.services.push_back(std::move(*done));
    }
  }
  auto& diagnostics = problems.all();
  if (has_errors(diagnostics)) {
    const auto errors = std::count_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
      return d.severity == Severity::error;
    });
    return fail(Error{.kind = problems.kind(),
                      .message = "cannot resolve the services of " + mesh.source + " ("
                                 + std::to_string(errors) + (errors == 1 ? " error)" : " errors)"),
                      .diagnostics = std::move(diagnostics)});
  }
  resolved.warnings = std::move(diagnostics);
  return resolved;
}

}  // namespace sconectl::mesh
