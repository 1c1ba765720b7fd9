#pragma once

// Private to diff: what the comparisons of the risk areas share. Each area's comparison reads the
// two session documents and appends its changes to one ChangeList.

#include "sconectl/diff/session_diff.hpp"

#include <string>
#include <utility>
#include <vector>

namespace sconectl::diff::detail {

using Json = model::SessionDocument;
using Named = std::vector<std::pair<std::string, const Json*>>;

// A string as it is, null as `otherwise`, anything else as JSON.
[[nodiscard]] std::string text(const Json& value, const std::string& otherwise = "");

// A list field's entries as text: strings as they are, anything else as JSON; a scalar is a
// list of one (SCONE accepts `tolerate: debug-mode`).
[[nodiscard]] std::vector<std::string> entries(const Json& value);

// The entries of `these` that `those` lacks, in the order of `these`.
[[nodiscard]] std::vector<std::string> missing_from(const std::vector<std::string>& these,
                                                    const std::vector<std::string>& those);

// Named entries of a list (services, secrets, images) by name, in document order.
[[nodiscard]] Named by_name(const Json& list);

[[nodiscard]] const Json* find(const Named& named, const std::string& name);

// Services of either version, proposed order first, then those only the live one has.
[[nodiscard]] std::vector<std::string> service_names(const Json& live, const Json& proposed);

// Long values (certificates, file contents) are cut in messages; the JSON keeps them whole.
[[nodiscard]] std::string shown(const std::string& value);

class ChangeList {
 public:
  explicit ChangeList(const CompareOptions& options) : m_options(options) {}

  Change& add(Area area, std::string kind, std::string subject, std::string message)
  {
    m_changes.push_back(Change{.area = area,
                               .kind = std::move(kind),
                               .subject = std::move(subject),
                               .message = std::move(message)});
    return m_changes.back();
  }

  // Values a manifest wrote go into the change only when they may be shown.
  void keep_values(Change& change, const Json& before, const Json& after) const
  {
    if (m_options.show_values) {
      change.before = before;
      change.after = after;
    } else {
      change.values_hidden = true;
    }
  }

  [[nodiscard]] bool show_values() const { return m_options.show_values; }
  [[nodiscard]] bool empty() const { return m_changes.empty(); }
  [[nodiscard]] std::vector<Change> take() { return std::move(m_changes); }

 private:
  CompareOptions m_options;
  std::vector<Change> m_changes;
};

}  // namespace sconectl::diff::detail
