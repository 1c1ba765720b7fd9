#pragma once

// Private to the manifest module: one parser and one validator per manifest kind.

#include "parse_context.hpp"
#include "sconectl/manifest/mesh.hpp"
#include "sconectl/manifest/service.hpp"

#include <map>
#include <optional>

namespace sconectl::manifest::detail {

// Build the typed model from the top-level mapping; structural problems go to the context.
[[nodiscard]] std::optional<ServiceManifest> parse_service(MapReader& top);
// Mesh parsing also reads the `image_secrets` files; their diagnostics go to `other_files`.
[[nodiscard]] std::optional<MeshManifest> parse_mesh(MapReader& top,
                                                     const std::filesystem::path& base_dir,
                                                     std::vector<Diagnostic>& other_files);

// Cross-field rules (duplicates, references, kind-specific attributes) on a parsed model.
void validate_service(const ServiceManifest& manifest, ParseContext& context);
void validate_mesh(const MeshManifest& manifest, ParseContext& context);

// Rules for a list of secret definitions that do not depend on the rest of the manifest:
// names, attributes that apply to the kind, explicit value formats, exports.
void validate_secret_definitions(const std::vector<SecretDefinition>& secrets,
                                 ParseContext& context);

// Secrets a manifest may refer to: its own (with their kind) and imported ones (kind unknown).
using KnownSecrets = std::map<std::string, std::optional<SecretKind>>;

// Checks every $$SCONE::name[:format]$$ in `text`: the secret exists and the format fits its kind.
void check_secret_references(const std::string& text,
                             SourcePosition at,
                             const std::string& path,
                             const KnownSecrets& known,
                             ParseContext& context);

// Checks `private_key` and `issuer` links: they name secrets of the right kind, without cycles.
void check_secret_links(const std::vector<SecretDefinition>& secrets,
                        const KnownSecrets& known,
                        ParseContext& context);

}  // namespace sconectl::manifest::detail
