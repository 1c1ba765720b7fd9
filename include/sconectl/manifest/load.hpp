#pragma once

#include "sconectl/manifest/mesh.hpp"
#include "sconectl/manifest/service.hpp"
#include "sconectl/manifest/variables.hpp"
#include "sconectl/util/diagnostic.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sconectl::manifest {

enum class Strictness { lenient, strict };  // strict: every warning is an error

// What an unset `$NAME` without a default means. `report` makes it an error (apply, validate);
// `allow` expands it to "" silently, for `apply --print-defaults`, which exists to list them.
enum class UndefinedVariables { report, allow };

struct LoadOptions {
  Strictness strictness = Strictness::lenient;
  UndefinedVariables undefined_variables = UndefinedVariables::report;
  VariableLookup variables = process_environment();
};

using Document = std::variant<ServiceManifest, MeshManifest>;

// A `$NAME` use found in the manifest, with the field it sits in.
struct VariableOccurrence {
  VariableUse use;
  std::string file;
  SourcePosition at;
  std::string path;
  bool is_set = false;
};

// Everything learnt from one manifest: the typed document when it could be built, every problem
// (errors and warnings, in file order), and the variables it uses.
struct LoadReport {
  std::optional<Document> document;
  std::string kind;  // "genservice" or "mesh" once the kind field was read, even if invalid
  std::vector<Diagnostic> diagnostics;
  std::vector<VariableOccurrence> variables;
  // The file itself could not be read (missing, unreadable, too large): nothing was parsed, and
  // the first diagnostic says why. Callers say "cannot read", not "is invalid".
  bool unreadable = false;

  [[nodiscard]] bool ok() const { return document.has_value() && !has_errors(diagnostics); }
};

// Reads `path` and parses it; never throws. Problems with the file itself (missing, too large)
// are reported as diagnostics too, so a caller has one place to look.
[[nodiscard]] LoadReport read_manifest(const std::filesystem::path& path,
                                       const LoadOptions& options);

// Parses manifest text. `source_name` appears in messages; `base_dir` anchors relative paths.
[[nodiscard]] LoadReport parse_manifest(std::string_view text,
                                        const std::string& source_name,
                                        const std::filesystem::path& base_dir,
                                        const LoadOptions& options);

// The document, or an Error of kind `manifest` carrying every diagnostic.
[[nodiscard]] Result<Document> to_result(LoadReport report);

[[nodiscard]] std::string_view kind_name(const Document& document);

}  // namespace sconectl::manifest
