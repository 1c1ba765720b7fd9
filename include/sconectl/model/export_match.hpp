#pragma once

// How session references in exports and imports are read: by the generator, the validator and
// the local CAS alike.

#include "sconectl/model/session.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// The entries of a secret's `export` field with the path of each ("export[0]", ...). SCONE's
// session language writes it as a list, and Scontain's own sessions also write a single mapping
// (`export: {session: x}`), which counts as a list of one with the path "export". Anything else
// (absent, null, a scalar) has no entries.
[[nodiscard]] std::vector<std::pair<const SessionDocument*, std::string>> export_entries(
    const SessionDocument& secret);

}  // namespace sconectl::model
