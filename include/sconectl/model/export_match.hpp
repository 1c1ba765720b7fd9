#pragma once

// How session references in exports and imports are read: by the generator, the validator and
// the local CAS alike.

#include <optional>
#include <string>

namespace sconectl::model {

// The absolute name of a session reference made from inside session `from`: "../x" names a
// sibling, "./x" a child, anything else is absolute.
[[nodiscard]] std::string absolute_session_name(const std::string& reference,
                                                const std::string& from);

// Whether an export entry (`session` or `namespace`) of a secret defined in session `exporter`
// makes it available to session `importer`.
[[nodiscard]] bool export_reaches(const std::optional<std::string>& session,
                                  const std::optional<std::string>& namespace_name,
                                  const std::string& exporter,
                                  const std::string& importer);

}  // namespace sconectl::model
