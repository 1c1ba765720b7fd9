#include "sconectl/verify/verify.hpp"

#include "sconectl/util/digest.hpp"
#include "sconectl/util/fs.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace sconectl::verify {

namespace {

using Ordered = nlohmann::ordered_json;

std::string dump(const Ordered& json)
{
  return json.dump(2) + "\n";
}

Ordered text_or_null(const std::optional<std::string>& value)
{
  return value ? Ordered(*value) : Ordered(nullptr);
}

std::optional<std::string> optional_string(const Ordered& value)
{
  return value.is_string() ? std::optional<std::string>(value.get<std::string>()) : std::nullopt;
}

std::string session_path(const std::string& name)
{
  return "sessions/" + name + ".json";
}

void check_images(const Evidence& evidence,
                  const Approved& approved,
                  std::vector<Finding>& findings)
{
  for (const auto& expected : approved.images) {
    const auto found =
        std::find_if(evidence.images.begin(), evidence.images.end(), [&](const auto& image) {
          return image.service == expected.service;
        });
    if (found == evidence.images.end()) {
      findings.push_back({.area = Area::cas,
                          .kind = "image-record-missing",
                          .subject = "service " + expected.service,
                          .message = "the evidence records no image for this service"});
    } else if (found->digest != expected.digest || found->measurement != expected.measurement) {
      findings.push_back(
          {.area = Area::cas,
           .kind = "image-record-changed",
           .subject = "service " + expected.service,
           .message = "the evidence records digest " + found->digest.value_or("(none)")
                      + " and measurement " + found->measurement + "; target/services records "
                      + expected.digest.value_or("(none)") + " and " + expected.measurement});
    }
  }
}

Ordered cas_json(const CasState& cas)
{
  return Ordered{{"address", cas.address},
                 {"trust", cas.trust},
                 {"key_hash", text_or_null(cas.key_hash)},
                 {"certificate", cas.certificate}};
}

Ordered session_json(const SessionState& session)
{
  auto versions = Ordered::array();
  for (const auto& version : session.versions) {
    versions.push_back({{"hash", version.hash},
                        {"predecessor", text_or_null(version.predecessor)},
                        {"creator", version.creator},
                        {"document", redact_session(version.document)}});
  }
  return Ordered{{"name", session.name}, {"truncated", session.truncated}, {"versions", versions}};
}

Ordered images_json(const std::vector<ImageRecord>& images)
{
  auto list = Ordered::array();
  for (const auto& image : images) {
    list.push_back({{"service", image.service},
                    {"session", image.session},
                    {"image", image.image},
                    {"digest", text_or_null(image.digest)},
                    {"measurement", image.measurement}});
  }
  return list;
}

Result<Ordered> read_json(const std::filesystem::path& dir, const std::string& name)
{
  auto text = fs::read_text_file(dir / name);
  if (!text) {
    return forward_error(std::move(text.error()));
  }
  auto parsed = Ordered::parse(*text, nullptr, false);
  if (parsed.is_discarded()) {
    return fail(ErrorKind::manifest, (dir / name).string() + ": not JSON");
  }
  return parsed;
}

// Checks every file against SHA256SUMS, and that it lists every file there is.
Result<void> check_sums(const std::filesystem::path& dir)
{
  auto sums = fs::read_text_file(dir / "SHA256SUMS");
  if (!sums) {
    return forward_error(std::move(sums.error()), "not an evidence bundle");
  }
  std::set<std::string> listed;
  std::istringstream lines(*sums);
  std::string line;
  while (std::getline(lines, line)) {
    // sha256sum's text format: 64 hex digits, two spaces, the path.
    if (line.size() < 67 || line.compare(64, 2, "  ") != 0) {
      return fail(ErrorKind::manifest, (dir / "SHA256SUMS").string() + ": malformed line: " + line);
    }
    const auto path = line.substr(66);
    if (!fs::stays_inside(dir, path)) {
      return fail(ErrorKind::manifest,
                  (dir / "SHA256SUMS").string() + ": a path outside the bundle: " + path);
    }
    auto content = fs::read_text_file(dir / path);
    if (!content) {
      return forward_error(std::move(content.error()), "evidence bundle");
    }
    const auto digest = sha256(*content);
    if (to_hex(digest) != line.substr(0, 64)) {
      return fail(ErrorKind::manifest,
                  (dir / path).string()
                      + ": changed since the evidence bundle was written (its SHA-256 is not "
                        "the one SHA256SUMS records)");
    }
    listed.insert(path);
  }
  std::error_code error;
  for (auto entry = std::filesystem::recursive_directory_iterator(dir, error);
       !error && entry != std::filesystem::recursive_directory_iterator();
       entry.increment(error)) {
    if (!entry->is_regular_file() && !entry->is_symlink()) {
      continue;
    }
    const auto relative = std::filesystem::relative(entry->path(), dir).generic_string();
    if (relative != "SHA256SUMS" && !listed.contains(relative)) {
      return fail(ErrorKind::manifest,
                  entry->path().string() + ": not part of the evidence bundle (SHA256SUMS does "
                                           "not list it)");
    }
  }
  if (error) {
    return fail(ErrorKind::io, dir.string() + ": " + error.message());
  }
  return {};
}

}  // namespace

std::vector<Finding> check(const Evidence& evidence, const Approved& approved)
{
  // A record of uploads to another CAS says nothing about this one's histories (apply starts such
  // a record afresh, too).
  auto record = approved.record;
  if (!record.cas.empty() && record.cas != evidence.cas.address) {
    record.chains.clear();
    record.cas_key.reset();
  }
  auto findings = check_cas(evidence.cas, approved.sessions, record);
  auto lint = lint_policies(evidence.cas, approved.production);
  findings.insert(findings.end(), lint.begin(), lint.end());
  check_images(evidence, approved, findings);
  if (evidence.cluster) {
    auto cluster = check_cluster(*evidence.cluster, approved.deployments);
    findings.insert(findings.end(), cluster.begin(), cluster.end());
  }
  sort_findings(findings);
  return findings;
}

nlohmann::ordered_json report_json(const Evidence& evidence, const std::vector<Finding>& findings)
{
  auto list = Ordered::array();
  for (const auto& finding : findings) {
    list.push_back(to_json(finding));
  }
  std::size_t pods = 0;
  std::size_t deployments = 0;
  if (evidence.cluster) {
    pods = evidence.cluster->pods.size();
    deployments = evidence.cluster->deployments.size();
  }
  const auto errors = count(findings, Severity::error);
  return Ordered{
      {"format", k_report_format},
      {"verdict", errors == 0 ? "verified" : "differences"},
      {"cas", evidence.cas.address},
      {"release", evidence.cluster ? Ordered(evidence.cluster->release) : Ordered(nullptr)},
      {"namespace",
       evidence.cluster ? Ordered(evidence.cluster->namespace_name) : Ordered(nullptr)},
      {"checked",
       {{"sessions", evidence.cas.sessions.size()},
        {"images", evidence.images.size()},
        {"deployments", deployments},
        {"pods", pods}}},
      {"counts", {{"errors", errors}, {"warnings", count(findings, Severity::warning)}}},
      {"findings", list}};
}

fs::FileTree evidence_files(const Evidence& evidence, const std::vector<Finding>& findings)
{
  fs::FileTree files;
  files["summary.json"] = dump(report_json(evidence, findings));
  files["cas.json"] = dump(cas_json(evidence.cas));
  auto order = Ordered::array();
  for (const auto& session : evidence.cas.sessions) {
    files[session_path(session.name)] = dump(session_json(session));
    order.push_back(session.name);
  }
  files["sessions.json"] = dump(order);
  files["images.json"] = dump(images_json(evidence.images));
  if (evidence.cluster) {
    files["cluster.json"] = dump(to_json(*evidence.cluster));
  }
  std::string sums;
  for (const auto& [path, content] : files) {
    sums += to_hex(sha256(content)) + "  " + path + "\n";
  }
  files["SHA256SUMS"] = sums;
  return files;
}

Result<Evidence> load_evidence(const std::filesystem::path& dir)
{
  TRY(check_sums(dir));
  try {
    Evidence evidence;
    auto cas = read_json(dir, "cas.json");
    if (!cas) {
      return forward_error(std::move(cas.error()));
    }
    evidence.cas.address = cas->at("address").get<std::string>();
    evidence.cas.trust = cas->at("trust").get<std::string>();
    evidence.cas.key_hash = optional_string(cas->at("key_hash"));
    evidence.cas.certificate = cas->at("certificate").get<std::string>();
    auto names = read_json(dir, "sessions.json");
    if (!names) {
      return forward_error(std::move(names.error()));
    }
    for (const auto& name : *names) {
      if (!fs::stays_inside(dir, session_path(name.get<std::string>()))) {
        return fail(ErrorKind::manifest, "sessions.json: not a session name: " + name.dump());
      }
      auto session = read_json(dir, session_path(name.get<std::string>()));
      if (!session) {
        return forward_error(std::move(session.error()));
      }
      SessionState state{.name = session->at("name").get<std::string>(),
                         .truncated = session->at("truncated").get<bool>()};
      for (const auto& version : session->at("versions")) {
        state.versions.push_back({.hash = version.at("hash").get<std::string>(),
                                  .predecessor = optional_string(version.at("predecessor")),
                                  .creator = version.at("creator").get<std::string>(),
                                  .document = version.at("document")});
      }
      evidence.cas.sessions.push_back(std::move(state));
    }
    auto images = read_json(dir, "images.json");
    if (!images) {
      return forward_error(std::move(images.error()));
    }
    for (const auto& image : *images) {
      evidence.images.push_back({.service = image.at("service").get<std::string>(),
                                 .session = image.at("session").get<std::string>(),
                                 .image = image.at("image").get<std::string>(),
                                 .digest = optional_string(image.at("digest")),
                                 .measurement = image.at("measurement").get<std::string>()});
    }
    if (std::filesystem::exists(dir / "cluster.json")) {
      auto cluster = read_json(dir, "cluster.json");
      if (!cluster) {
        return forward_error(std::move(cluster.error()));
      }
      auto state = cluster_state_from_json(nlohmann::json::parse(cluster->dump()));
      if (!state) {
        return forward_error(std::move(state.error()), (dir / "cluster.json").string());
      }
      evidence.cluster = std::move(*state);
    }
    return evidence;
  } catch (const nlohmann::json::exception& error) {
    return fail(ErrorKind::manifest,
                dir.string() + ": not an evidence bundle sconectl wrote: " + error.what());
  }
}

}  // namespace sconectl::verify
