#include "sconectl/manifest/load.hpp"

#include "parse_document.hpp"
#include "parse_fields.hpp"
#include "sconectl/util/fs.hpp"
#include "yaml_document.hpp"

namespace sconectl::manifest {

namespace {

using detail::MapReader;
using detail::Need;
using detail::ParseContext;

// The position of the first byte that is not part of valid UTF-8, if any. YAML, JSON and CAS
// all require UTF-8, so such input is refused before parsing instead of failing later.
std::optional<SourcePosition> find_invalid_utf8(std::string_view text)
{
  int line = 1;
  int column = 1;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    if (byte < 0x80) {
      length = 1;
    } else if ((byte & 0xe0) == 0xc0 && byte >= 0xc2) {
      length = 2;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
    } else if ((byte & 0xf8) == 0xf0 && byte <= 0xf4) {
      length = 4;
    } else {
      return SourcePosition{line, column};
    }
    if (i + length > text.size()) {
      return SourcePosition{line, column};
    }
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) {
        return SourcePosition{line, column};
      }
    }
    if (byte == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += length;
  }
  return std::nullopt;
}

std::optional<Document> parse_document(MapReader& top,
                                       const std::string& source_name,
                                       const std::filesystem::path& base_dir,
                                       std::vector<Diagnostic>& other_files,
                                       std::string& kind_seen)
{
  auto& context = top.context();
  const auto kind = top.string("kind", Need::required);
  if (!kind) {
    return std::nullopt;
  }
  if (*kind == "genservice" || *kind == "mesh") {
    kind_seen = *kind;
  }
  if (*kind == "genservice") {
    auto service = detail::parse_service(top);
    if (!service) {
      return std::nullopt;
    }
    service->source = source_name;
    service->base_dir = base_dir;
    detail::validate_service(*service, context);
    return Document(std::move(*service));
  }
  if (*kind == "mesh") {
    auto mesh = detail::parse_mesh(top, base_dir, other_files);
    if (!mesh) {
      return std::nullopt;
    }
    mesh->source = source_name;
    detail::validate_mesh(*mesh, context);
    return Document(std::move(*mesh));
  }
  std::string message = "unknown manifest kind '" + *kind + "'; expected genservice or mesh";
  if (*kind == "genAppImage" || *kind == "genImage") {
    message += " (" + *kind + " was renamed to genservice)";
  }
  context.error(top.position_of_field("kind"), "kind", std::move(message));
  return std::nullopt;
}

}  // namespace

LoadReport parse_manifest(std::string_view text,
                          const std::string& source_name,
                          const std::filesystem::path& base_dir,
                          const LoadOptions& options)
{
  LoadReport report;
  ParseContext context(source_name, options, ParseContext::Expand::variables);
  std::vector<Diagnostic> other_files;
  if (const auto bad = find_invalid_utf8(text)) {
    context.error(*bad, "", "not valid UTF-8; manifests must be UTF-8 text");
  } else if (const auto root = detail::load_yaml_document(text, context)) {
    if (!root->is_map()) {
      context.error(detail::position_of(*root),
                    "",
                    "expected a mapping at the top level, got " + detail::describe_node(*root));
    } else {
      MapReader top(*root, "", context);
      report.document = parse_document(top, source_name, base_dir, other_files, report.kind);
    }
  }
  context.finish(report);
  for (auto& diagnostic : other_files) {
    report.diagnostics.push_back(std::move(diagnostic));
  }
  return report;
}

LoadReport read_manifest(const std::filesystem::path& path, const LoadOptions& options)
{
  const auto text = fs::read_text_file(path);
  if (!text) {
    LoadReport report;
    report.unreadable = true;
    // fs errors read "cannot read PATH: CAUSE"; the diagnostic names the file already.
    const auto& message = text.error().message;
    const auto prefix = "cannot read " + path.string() + ": ";
    report.diagnostics.push_back(Diagnostic{
        .severity = Severity::error,
        .file = path.string(),
        .message = "cannot read the file: "
                   + (message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message)});
    return report;
  }
  auto base_dir = path.parent_path();
  if (base_dir.empty()) {
    base_dir = ".";
  }
  return parse_manifest(*text, path.string(), base_dir, options);
}

Result<Document> to_result(LoadReport report)
{
  if (report.ok()) {
    return std::move(*report.document);
  }
  std::size_t errors = 0;
  for (const auto& diagnostic : report.diagnostics) {
    errors += diagnostic.severity == Severity::error ? 1 : 0;
  }
  const auto file = report.diagnostics.empty() ? std::string() : report.diagnostics.front().file;
  Error error{.kind = ErrorKind::manifest,
              .message = report.unreadable ? "cannot read " + file
                                           : file + " is invalid (" + std::to_string(errors)
                                                 + (errors == 1 ? " error)" : " errors)"),
              .diagnostics = std::move(report.diagnostics)};
  return fail(std::move(error));
}

std::string_view kind_name(const Document& document)
{
  return std::holds_alternative<ServiceManifest>(document) ? "genservice" : "mesh";
}

}  // namespace sconectl::manifest
