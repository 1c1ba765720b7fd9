#include "sconectl/apply/plan_mesh.hpp"

#include "sconectl/util/fs.hpp"

#include <algorithm>
#include <set>

namespace sconectl::apply {

namespace {

constexpr int k_plan_format = 1;

nlohmann::ordered_json optional_text(const std::optional<std::string>& value)
{
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

const std::string* recorded(const cas::UploadRecord& record, const std::string& name)
{
  const auto found = record.chains.find(name);
  if (found == record.chains.end() || found->second.empty()) {
    return nullptr;
  }
  return &found->second.front();
}

// Names the image a new measurement belongs to.
void name_images(std::vector<diff::Change>& changes,
                 const std::string& session,
                 const ServiceImages& images)
{
  for (auto& change : changes) {
    if (change.kind != "measurement-added" || !change.subject.starts_with("service ")) {
      continue;
    }
    const auto service = change.subject.substr(std::string("service ").size());
    if (const auto found = images.find(session + "/" + service); found != images.end()) {
      change.message += " (image " + found->second + ")";
    }
  }
}

Result<std::vector<diff::Change>> compare_with(const cas::SessionRecord& remote,
                                               const model::SessionDocument& local,
                                               const diff::CompareOptions& compare)
{
  auto parsed = model::parse_session_yaml(remote.session);
  if (!parsed) {
    return fail(ErrorKind::server,
                "the CAS returned session '" + remote.name
                    + "' in a form that does not parse: " + parsed.error().message);
  }
  return diff::compare_sessions(*parsed, local, compare);
}

// The plan of one produced session, given its current version (nullopt: absent) and, when it was
// read, the whole current record.
Result<SessionPlan> plan_session(cas::CasClient& client,
                                 const model::Session& session,
                                 const std::optional<cas::CurrentVersion>& current,
                                 std::optional<cas::SessionRecord> remote,
                                 const std::string& own_key_hash,
                                 const ServiceImages& images,
                                 const diff::CompareOptions& compare)
{
  SessionPlan plan{.name = session.name};
  model::SessionDocument local = session.document;
  local.erase("predecessor");
  if (!current) {
    plan.action = PlanAction::create;
    plan.planned_hash = cas::expected_hash(local, own_key_hash);
    return plan;
  }
  plan.current_hash = current->hash;
  model::SessionDocument stored = local;
  if (current->predecessor) {
    stored["predecessor"] = *current->predecessor;
  }
  // The hash covers the whole document: equal hashes, equal content.
  if (cas::expected_hash(stored, current->creator) == current->hash) {
    plan.action = PlanAction::unchanged;
    plan.planned_hash = current->hash;
    return plan;
  }
  plan.action = PlanAction::update;
  model::SessionDocument sent = local;
  sent["predecessor"] = current->hash;
  plan.planned_hash = cas::expected_hash(sent, current->creator);
  if (!remote) {
    auto read = client.get_session(session.name);
    if (!read) {
      return forward_error(std::move(read.error()));
    }
    if (!*read) {
      return fail(ErrorKind::conflict,
                  "session '" + session.name + "' disappeared from the CAS while it was read");
    }
    remote = std::move(**read);
  }
  auto changes = compare_with(*remote, local, compare);
  if (!changes) {
    return forward_error(std::move(changes.error()));
  }
  plan.changes = std::move(*changes);
  name_images(plan.changes, session.name, images);
  return plan;
}

std::string describe(const SessionPlan& session, const diff::Change& change)
{
  return "session " + session.name + ": " + change.message;
}

}  // namespace

const char* to_string(PlanAction action)
{
  switch (action) {
    case PlanAction::create:
      return "create";
    case PlanAction::update:
      return "update";
    case PlanAction::unchanged:
      return "unchanged";
    case PlanAction::orphaned:
      return "orphaned";
  }
  return "unknown";
}

bool MeshPlan::has_changes() const
{
  return std::any_of(sessions.begin(), sessions.end(), [](const SessionPlan& session) {
    return session.action != PlanAction::unchanged;
  });
}

Result<MeshPlan> plan_mesh(cas::CasClient& client,
                           const std::vector<model::Session>& sessions,
                           const std::string& own_key_hash,
                           const cas::UploadRecord& record,
                           const std::string& cas,
                           const ServiceImages& images,
                           const diff::CompareOptions& compare)
{
  MeshPlan plan{.cas = cas};
  const bool same_cas = record.cas == cas;
  std::set<std::string> produced;
  std::vector<std::string> names;
  for (const auto& session : sessions) {
    produced.insert(session.name);
    names.push_back(session.name);
  }
  std::vector<std::string> formerly;  // recorded here, no longer produced
  if (same_cas) {
    for (const auto& [name, chain] : record.chains) {
      if (!chain.empty() && !produced.contains(name)) {
        formerly.push_back(name);
        names.push_back(name);
      }
    }
  }
  auto batch = client.current_versions(names);
  if (!batch) {
    return forward_error(std::move(batch.error()));
  }
  // Without a batch read, one GET per session gives the version and the content at once.
  std::map<std::string, std::optional<cas::SessionRecord>> read;
  cas::CurrentVersions versions;
  if (*batch) {
    versions = std::move(**batch);
  } else {
    for (const auto& name : names) {
      auto current = client.get_session(name);
      if (!current) {
        return forward_error(std::move(current.error()));
      }
      if (*current) {
        versions[name] =
            cas::CurrentVersion{(*current)->hash, (*current)->predecessor, (*current)->creator};
      } else {
        versions[name] = std::nullopt;
      }
      read[name] = std::move(*current);
    }
  }
  for (const auto* session : cas::upload_order(sessions)) {
    std::optional<cas::CurrentVersion> current;
    if (const auto found = versions.find(session->name); found != versions.end()) {
      current = found->second;
    }
    plan.current_versions.emplace(session->name, current);
    std::optional<cas::SessionRecord> remote;
    if (const auto found = read.find(session->name); found != read.end()) {
      remote = found->second;
    }
    auto planned =
        plan_session(client, *session, current, std::move(remote), own_key_hash, images, compare);
    if (!planned) {
      return forward_error(std::move(planned.error()));
    }
    if (same_cas) {
      if (const auto* hash = recorded(record, session->name)) {
        planned->recorded_hash = *hash;
      }
    }
    plan.sessions.push_back(std::move(*planned));
  }
  for (const auto& name : formerly) {
    const auto found = versions.find(name);
    if (found != versions.end()) {
      plan.current_versions.emplace(name, found->second);
    }
    if (found == versions.end() || !found->second) {
      continue;  // gone from the CAS, or not readable by this client
    }
    SessionPlan orphan{.name = name,
                       .action = PlanAction::orphaned,
                       .current_hash = found->second->hash,
                       .planned_hash = found->second->hash,
                       .recorded_hash = *recorded(record, name)};
    plan.sessions.push_back(std::move(orphan));
  }
  return plan;
}

nlohmann::ordered_json to_json(const MeshPlan& plan)
{
  std::map<std::string, int> counts{
      {"create", 0}, {"update", 0}, {"unchanged", 0}, {"orphaned", 0}};
  auto sessions = nlohmann::ordered_json::array();
  bool weakens = false;
  bool destructive = false;
  bool changed_elsewhere = false;
  for (const auto& session : plan.sessions) {
    ++counts[to_string(session.action)];
    auto changes = nlohmann::ordered_json::array();
    for (const auto& change : session.changes) {
      changes.push_back(diff::to_json(change));
      weakens = weakens || change.weakens;
      destructive = destructive || change.destructive;
    }
    changed_elsewhere = changed_elsewhere || session.changed_elsewhere();
    nlohmann::ordered_json concurrency = nullptr;
    if (session.changed_elsewhere()) {
      concurrency = {{"recorded", *session.recorded_hash}, {"current", *session.current_hash}};
    }
    sessions.push_back({{"name", session.name},
                        {"action", to_string(session.action)},
                        {"current_hash", optional_text(session.current_hash)},
                        {"planned_hash", optional_text(session.planned_hash)},
                        {"recorded_hash", optional_text(session.recorded_hash)},
                        {"concurrency", std::move(concurrency)},
                        {"changes", std::move(changes)}});
  }
  return {{"format", k_plan_format},
          {"cas", plan.cas},
          {"changed", plan.has_changes()},
          {"summary",
           {{"create", counts["create"]},
            {"update", counts["update"]},
            {"unchanged", counts["unchanged"]},
            {"orphaned", counts["orphaned"]},
            {"weakens", weakens},
            {"destructive", destructive},
            {"changed_elsewhere", changed_elsewhere}}},
          {"sessions", std::move(sessions)}};
}

std::vector<std::string> risk_lines(const MeshPlan& plan)
{
  std::vector<std::string> lines;
  for (const auto& session : plan.sessions) {
    if (session.changed_elsewhere()) {
      lines.push_back("session " + session.name
                      + ": changed on the CAS since the last apply from this target directory: "
                        "recorded "
                      + *session.recorded_hash + ", the CAS has " + *session.current_hash);
    }
    if (session.action == PlanAction::orphaned) {
      lines.push_back("session " + session.name
                      + ": no longer produced by the manifests, still on the CAS ("
                      + *session.current_hash + ")");
    }
    for (const auto& change : session.changes) {
      if (change.weakens || change.destructive) {
        lines.push_back(describe(session, change));
      }
    }
  }
  return lines;
}

Result<void> check_consent(const MeshPlan& plan, const RiskConsent& consent)
{
  std::vector<std::string> regenerated;
  std::vector<std::string> weaker;
  for (const auto& session : plan.sessions) {
    for (const auto& change : session.changes) {
      if (change.kind == "secret-regenerated" && !consent.secret_regeneration) {
        regenerated.push_back(describe(session, change));
      } else if (change.area == diff::Area::attestation && change.weakens
                 && !consent.weaker_attestation) {
        weaker.push_back(describe(session, change));
      }
    }
  }
  if (regenerated.empty() && weaker.empty()) {
    return {};
  }
  std::string message =
      "in production mode this apply needs explicit consent; nothing was uploaded";
  if (!regenerated.empty()) {
    message +=
        "\n  CAS would generate new secret values, losing the old ones for good (pass "
        "--allow-secret-regeneration):";
    for (const auto& line : regenerated) {
      message += "\n    " + line;
    }
  }
  if (!weaker.empty()) {
    message += "\n  attestation would prove less (pass --allow-weaker-attestation):";
    for (const auto& line : weaker) {
      message += "\n    " + line;
    }
  }
  return fail(ErrorKind::usage, message);
}

ReviewedPlan reviewed(const MeshPlan& plan)
{
  ReviewedPlan result{.cas = plan.cas};
  for (const auto& session : plan.sessions) {
    if (session.action == PlanAction::create || session.action == PlanAction::update) {
      result.sessions.push_back({session.name, session.current_hash, *session.planned_hash});
    }
  }
  return result;
}

Result<void> save_reviewed_plan(const std::filesystem::path& file, const ReviewedPlan& plan)
{
  auto sessions = nlohmann::ordered_json::array();
  for (const auto& session : plan.sessions) {
    sessions.push_back({{"name", session.name},
                        {"current_hash", optional_text(session.current_hash)},
                        {"planned_hash", session.planned_hash}});
  }
  const nlohmann::ordered_json json{
      {"format", k_plan_format}, {"cas", plan.cas}, {"uploads", std::move(sessions)}};
  return fs::write_file_atomically(file, json.dump(2) + "\n", fs::FileMode::private_to_owner);
}

Result<ReviewedPlan> load_reviewed_plan(const std::filesystem::path& file)
{
  auto text = fs::read_text_file(file);
  if (!text) {
    return forward_error(std::move(text.error()));
  }
  const auto json = nlohmann::json::parse(*text, nullptr, false);
  const auto invalid = [&](const std::string& what) {
    return fail(ErrorKind::usage,
                file.string() + ": not a plan written by `sconectl diff --out`: " + what);
  };
  if (!json.is_object()) {
    return invalid("expected a JSON object");
  }
  if (!json.contains("format") || !json.at("format").is_number_integer()
      || json.at("format").get<int>() != k_plan_format) {
    return invalid("format: expected " + std::to_string(k_plan_format));
  }
  if (!json.contains("cas") || !json.at("cas").is_string()) {
    return invalid("cas: expected host:port");
  }
  if (!json.contains("uploads") || !json.at("uploads").is_array()) {
    return invalid("uploads: expected a list");
  }
  ReviewedPlan plan{.cas = json.at("cas").get<std::string>()};
  std::size_t index = 0;
  for (const auto& entry : json.at("uploads")) {
    const auto where = "uploads[" + std::to_string(index++) + "]";
    if (!entry.is_object() || !entry.contains("name") || !entry.at("name").is_string()
        || !entry.contains("planned_hash") || !entry.at("planned_hash").is_string()
        || !entry.contains("current_hash")
        || !(entry.at("current_hash").is_string() || entry.at("current_hash").is_null())) {
      return invalid(where + ": expected name, current_hash (text or null) and planned_hash");
    }
    ReviewedSession session{.name = entry.at("name").get<std::string>(),
                            .planned_hash = entry.at("planned_hash").get<std::string>()};
    if (entry.at("current_hash").is_string()) {
      session.current_hash = entry.at("current_hash").get<std::string>();
    }
    plan.sessions.push_back(std::move(session));
  }
  return plan;
}

std::vector<std::string> plan_mismatches(const ReviewedPlan& reviewed, const MeshPlan& now)
{
  std::vector<std::string> problems;
  if (reviewed.cas != now.cas) {
    problems.push_back("the plan is for CAS " + reviewed.cas + ", this apply goes to " + now.cas);
  }
  const auto shown = [](const std::optional<std::string>& hash) {
    return hash.value_or("(absent)");
  };
  std::map<std::string, const SessionPlan*> planned_now;
  for (const auto& session : now.sessions) {
    planned_now.emplace(session.name, &session);
  }
  std::set<std::string> in_plan;
  for (const auto& session : reviewed.sessions) {
    in_plan.insert(session.name);
    const auto found = planned_now.find(session.name);
    if (found == planned_now.end() || found->second->action == PlanAction::orphaned) {
      problems.push_back("session " + session.name
                         + ": in the plan, but the manifests no longer produce it");
      continue;
    }
    const auto& current = *found->second;
    if (current.current_hash != session.current_hash) {
      problems.push_back("session " + session.name + ": the plan expects the CAS to hold "
                         + shown(session.current_hash) + ", it now holds "
                         + shown(current.current_hash));
    } else if (current.action == PlanAction::unchanged) {
      problems.push_back("session " + session.name
                         + ": the plan uploads it, but the manifests now produce what the CAS "
                           "already holds");
    } else if (current.planned_hash != session.planned_hash) {
      problems.push_back("session " + session.name + ": the plan uploads " + session.planned_hash
                         + ", the manifests now produce " + shown(current.planned_hash));
    }
  }
  for (const auto& session : now.sessions) {
    if ((session.action == PlanAction::create || session.action == PlanAction::update)
        && !in_plan.contains(session.name)) {
      problems.push_back("session " + session.name + ": not in the plan, but would be "
                         + (session.action == PlanAction::create ? "created" : "updated")
                         + " now (CAS holds " + shown(session.current_hash) + ")");
    }
  }
  return problems;
}

}  // namespace sconectl::apply
