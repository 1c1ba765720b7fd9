#include "export_match.hpp"

namespace sconectl::policy {

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

}  // namespace sconectl::policy
