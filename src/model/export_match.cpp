#include "sconectl/model/export_match.hpp"

#include "sconectl/model/session.hpp"

#include <set>

namespace sconectl::model {

namespace {

std::string parent_of(const std::string& session)
{
  const auto slash = session.rfind('/');
  return slash == std::string::npos ? std::string() : session.substr(0, slash);
}

}  // namespace

std::string absolute_session_name(const std::string& reference, const std::string& from)
{
  if (reference.starts_with("../")) {
    const auto parent = parent_of(from);
    return parent.empty() ? reference.substr(3) : parent + "/" + reference.substr(3);
  }
  if (reference.starts_with("./")) {
    return from + "/" + reference.substr(2);
  }
  return reference;
}

bool export_reaches(const std::optional<std::string>& session,
                    const std::optional<std::string>& namespace_name,
                    const std::string& exporter,
                    const std::string& importer)
{
  if (session && absolute_session_name(*session, exporter) == importer) {
    return true;
  }
  return namespace_name && !namespace_name->empty() && importer.starts_with(*namespace_name + "/");
}

std::vector<std::pair<const SessionDocument*, std::string>> export_entries(
    const SessionDocument& secret)
{
  std::vector<std::pair<const SessionDocument*, std::string>> entries;
  if (!secret.is_object() || !secret.contains("export")) {
    return entries;
  }
  const auto& exports = secret.at("export");
  if (exports.is_object()) {
    entries.emplace_back(&exports, "export");
  } else if (exports.is_array()) {
    for (std::size_t i = 0; i < exports.size(); ++i) {
      entries.emplace_back(&exports[i], "export[" + std::to_string(i) + "]");
    }
  }
  return entries;
}

std::vector<std::string> imported_sessions(const SessionDocument& session)
{
  std::set<std::string> sources;
  const auto name = session.value("name", std::string());
  if (!session.contains("secrets") || !session.at("secrets").is_array()) {
    return {};
  }
  for (const auto& secret : session.at("secrets")) {
    if (!secret.is_object() || !secret.contains("import") || !secret.at("import").is_object()) {
      continue;
    }
    const auto& import = secret.at("import");
    if (import.contains("session") && import.at("session").is_string()) {
      sources.insert(absolute_session_name(import.at("session").get<std::string>(), name));
    }
  }
  return {sources.begin(), sources.end()};
}

}  // namespace sconectl::model
