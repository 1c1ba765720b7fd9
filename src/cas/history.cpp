#include "sconectl/cas/history.hpp"

namespace sconectl::cas {

Result<std::optional<SessionHistory>> read_history(CasClient& client,
                                                   const std::string& name,
                                                   const HistoryOptions& options)
{
  auto current = client.get_session(name);
  if (!current) {
    return forward_error(std::move(current.error()));
  }
  if (!*current) {
    return std::optional<SessionHistory>();
  }
  TRY(verify_session_record(**current, name, std::nullopt));
  SessionHistory history;
  std::set<std::string> seen{(*current)->hash};
  history.versions.push_back(std::move(**current));
  while (true) {
    const auto& newest = history.versions.back();
    if (!newest.predecessor || options.stop_at.contains(newest.hash)) {
      break;
    }
    if (history.versions.size() >= options.max_versions) {
      history.truncated = true;
      break;
    }
    const auto predecessor = *newest.predecessor;
    if (!seen.insert(predecessor).second) {
      return fail(ErrorKind::server,
                  "the predecessor chain of '" + name + "' loops back to " + predecessor);
    }
    auto record = read_verified_session(client, name, predecessor);
    if (!record) {
      return forward_error(std::move(record.error()));
    }
    history.versions.push_back(std::move(*record));
  }
  return std::optional<SessionHistory>(std::move(history));
}

}  // namespace sconectl::cas
