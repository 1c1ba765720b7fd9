#include "sconectl/cas/session_file.hpp"

#include "sconectl/util/fs.hpp"
#include "sconectl/util/strings.hpp"
#include "sconectl/yaml/node.hpp"

#include <algorithm>

namespace sconectl::cas {

namespace {

using Json = model::SessionDocument;

constexpr std::size_t k_max_session_bytes = 4 * 1024 * 1024;

// `$$` is no escape in a session file: each piece between two `$$` is expanded on its own and the
// `$$` put back, so `$$SCONE::name$$` and any other `$$` reach the CAS as written.
manifest::Expansion expand_keeping_double_dollars(const std::string& text,
                                                  const manifest::VariableLookup& lookup)
{
  manifest::Expansion result;
  std::size_t start = 0;
  for (;;) {
    const auto at = text.find("$$", start);
    const auto piece = text.substr(start, at == std::string::npos ? std::string::npos : at - start);
    auto expanded = manifest::expand_variables(piece, lookup);
    result.text += expanded.text;
    result.undefined.insert(
        result.undefined.end(), expanded.undefined.begin(), expanded.undefined.end());
    result.problems.insert(
        result.problems.end(), expanded.problems.begin(), expanded.problems.end());
    if (at == std::string::npos) {
      return result;
    }
    result.text += "$$";
    start = at + 2;
  }
}

void expand_tree(Json& value,
                 const manifest::VariableLookup& lookup,
                 std::vector<std::string>& undefined,
                 std::vector<std::string>& problems)
{
  if (value.is_string()) {
    auto expanded = expand_keeping_double_dollars(value.get<std::string>(), lookup);
    undefined.insert(undefined.end(), expanded.undefined.begin(), expanded.undefined.end());
    problems.insert(problems.end(), expanded.problems.begin(), expanded.problems.end());
    value = std::move(expanded.text);
  } else if (value.is_structured()) {
    for (auto& item : value) {
      expand_tree(item, lookup, undefined, problems);
    }
  }
}

// The parts of a field path: keys and [indexes]. A key may itself hold dots (an environment
// variable's name), so keys are matched greedily against the document below.
std::vector<std::string> path_parts(std::string_view path)
{
  std::vector<std::string> parts;
  std::string current;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.' || c == '[') {
      if (!current.empty()) {
        parts.push_back(std::move(current));
        current.clear();
      }
      if (c == '[') {
        const auto end = path.find(']', i);
        if (end == std::string_view::npos) {
          break;
        }
        parts.emplace_back(path.substr(i, end - i + 1));
        i = end;
      }
      continue;
    }
    current.push_back(c);
  }
  if (!current.empty()) {
    parts.push_back(std::move(current));
  }
  return parts;
}

SessionFieldPosition position_of(const yaml::Node& node)
{
  const auto at = node.position();
  return {.line = at.line, .column = at.column};
}

}  // namespace

SessionFieldPosition session_field_position(std::string_view text, std::string_view path)
{
  auto loaded = yaml::load(text);
  if (!loaded) {
    return {};
  }
  yaml::Node node = std::move(*loaded);
  const auto parts = path_parts(path);
  auto found = position_of(node);
  for (std::size_t i = 0; i < parts.size() && node;) {
    const auto& part = parts[i];
    if (part.starts_with('[')) {
      if (!node.is_sequence()) {
        break;
      }
      std::size_t index = 0;
      try {
        index = std::stoul(part.substr(1, part.size() - 2));
      } catch (const std::exception&) {
        break;
      }
      if (index >= node.size()) {
        break;
      }
      node = node.item(index);
      found = position_of(node);
      ++i;
      continue;
    }
    if (!node.is_map()) {
      break;
    }
    // The longest run of parts, joined by dots, that is a key here.
    bool matched = false;
    for (std::size_t last = parts.size(); last > i && !matched; --last) {
      std::string key;
      bool has_index = false;
      for (std::size_t j = i; j < last; ++j) {
        has_index = has_index || parts[j].starts_with('[');
        key += (j == i ? "" : ".") + parts[j];
      }
      if (has_index) {
        continue;
      }
      yaml::Node value;
      for (const auto& [entry_key, entry_value] : node.entries()) {
        if (entry_key.is_scalar() && entry_key.scalar() == key) {
          // A field points at its key, which is there even when its value is not (`key:`).
          found = position_of(entry_key);
          value = entry_value;
          matched = true;
          break;
        }
      }
      if (matched) {
        node = value;
        i = last;
      }
    }
    if (!matched) {
      break;
    }
  }
  return found;
}

Diagnostic session_problem(const std::string& file,
                           std::string_view text,
                           std::string_view problem,
                           Severity severity)
{
  Diagnostic found{.severity = severity, .file = file, .message = std::string(problem)};
  // As the local CAS prefixes what the session check finds.
  std::string_view rest = problem;
  if (rest.starts_with("session '")) {
    const auto end = rest.find("': ");
    if (end != std::string_view::npos) {
      rest.remove_prefix(end + 3);
    }
  }
  const auto colon = rest.find(": ");
  if (colon == 0 || colon == std::string_view::npos
      || rest.substr(0, colon).find_first_of(" \t\n") != std::string_view::npos) {
    return found;  // names no field: "session 'x' exists; ...", "namespace_hash is set, but ..."
  }
  found.path = std::string(rest.substr(0, colon));
  found.message = std::string(rest.substr(colon + 2));
  const auto at = session_field_position(text, found.path);
  found.line = at.line;
  found.column = at.column;
  return found;
}

Result<model::SessionDocument> load_session_file(const std::filesystem::path& file,
                                                 const SessionFileOptions& options)
{
  auto text = read_session_text(file);
  if (!text) {
    return forward_error(std::move(text.error()));
  }
  return session_from_text(file, *text, options);
}

Result<std::string> read_session_text(const std::filesystem::path& file)
{
  return fs::read_text_file(file, k_max_session_bytes);
}

Result<model::SessionDocument> session_from_text(const std::filesystem::path& file,
                                                 std::string_view text,
                                                 const SessionFileOptions& options)
{
  auto document = model::parse_session_yaml(text);
  if (!document) {
    return fail(ErrorKind::manifest, file.string() + ": " + document.error().message);
  }
  if (!document->is_object()) {
    return fail(ErrorKind::manifest, file.string() + ": a session is a YAML mapping");
  }
  const manifest::VariableLookup lookup =
      [&options](std::string_view name) -> std::optional<std::string> {
    if (const auto found = options.set.find(std::string(name)); found != options.set.end()) {
      return found->second;
    }
    return options.environment ? options.environment(name) : std::nullopt;
  };
  std::vector<std::string> undefined;
  std::vector<std::string> problems;
  expand_tree(*document, lookup, undefined, problems);
  if (!problems.empty()) {
    return fail(ErrorKind::manifest, file.string() + ": " + problems.front());
  }
  if (!undefined.empty()) {
    std::sort(undefined.begin(), undefined.end());
    undefined.erase(std::unique(undefined.begin(), undefined.end()), undefined.end());
    return fail(ErrorKind::manifest,
                file.string() + ": undefined variable" + (undefined.size() > 1 ? "s " : " ")
                    + strings::join(undefined, ", ")
                    + " (export them, or give each with -e NAME=VALUE)");
  }
  if (!document->contains("name") || !document->at("name").is_string()) {
    return fail(ErrorKind::manifest, file.string() + ": name: a session needs a name");
  }
  // "~" (or null) is how a hand-written session says it has no predecessor.
  if (!predecessor_of(*document)) {
    document->erase("predecessor");
  }
  const auto found = model::validate_session(
      *document, [](const std::string&) { return nullptr; }, model::MissingSources::allowed);
  if (!found.empty()) {
    Error error{.kind = ErrorKind::manifest,
                .message = file.string() + " is not a valid session ("
                           + std::to_string(found.size())
                           + (found.size() == 1 ? " problem)" : " problems)")};
    for (const auto& problem : found) {
      const auto at = session_field_position(text, problem.path);
      error.diagnostics.push_back(Diagnostic{.severity = Severity::error,
                                             .file = file.string(),
                                             .line = at.line,
                                             .column = at.column,
                                             .path = problem.path,
                                             .message = problem.message});
    }
    return tl::unexpected(std::move(error));
  }
  return document;
}

std::optional<std::string> predecessor_of(const model::SessionDocument& document)
{
  const auto found = document.find("predecessor");
  if (found == document.end() || found->is_null()) {
    return std::nullopt;
  }
  if (found->is_string() && found->get<std::string>() != "~") {
    return found->get<std::string>();
  }
  return std::nullopt;
}

std::optional<std::string> creator_of(const model::SessionDocument& document)
{
  const auto found = document.find("creator");
  if (found == document.end() || !found->is_string() || found->get<std::string>().empty()) {
    return std::nullopt;
  }
  return found->get<std::string>();
}

std::string expected_session_hash(model::SessionDocument document, const std::string& creator)
{
  const auto predecessor = predecessor_of(document);
  document.erase("predecessor");
  document["creator"] = creator;
  if (predecessor) {
    document["predecessor"] = *predecessor;
  }
  return model::session_hash(document);
}

Result<SessionWrite> write_session(CasClient& client,
                                   model::SessionDocument document,
                                   SessionWriteMode mode,
                                   const std::string& creator)
{
  const auto name = document.at("name").get<std::string>();
  auto predecessor = predecessor_of(document);
  document.erase("predecessor");
  // A CAS keeps a session's creator across updates, and the creator is part of the hash. A file
  // that names a predecessor updates the session on it, with `create` too, as
  // `scone session create` does (Scontain's exercise 4 upgrades a namespace that way).
  std::string stored_creator = creator;
  if (mode == SessionWriteMode::update || predecessor) {
    auto current = client.get_session(name);
    if (!current) {
      return forward_error(std::move(current.error()));
    }
    if (!*current) {
      return fail(ErrorKind::usage,
                  mode == SessionWriteMode::update
                      ? "there is no session '" + name + "' to update; use `session create`"
                      : "session '" + name + "' names a predecessor, " + *predecessor
                            + ", but the CAS has no such session; leave predecessor out (or "
                              "\"~\") to create it");
    }
    if (!predecessor) {
      predecessor = (*current)->hash;
    }
    stored_creator = (*current)->creator;
  }
  if (predecessor) {
    document["predecessor"] = *predecessor;
  }
  const auto expected = expected_session_hash(document, stored_creator);
  auto answer = client.try_post_session(name, model::to_yaml(document));
  if (!answer) {
    return forward_error(std::move(answer.error()));
  }
  if (const auto* refused = std::get_if<HttpResponse>(&*answer)) {
    return tl::unexpected(upload_refused(name, *refused, RefusalProblems::as_diagnostics));
  }
  const auto* outcome = std::get_if<PostOutcome>(&*answer);
  if (outcome->receipt.hash != expected) {
    return fail(ErrorKind::server,
                "the CAS stored session '" + name + "' as " + outcome->receipt.hash
                    + ", but what was sent hashes to " + expected);
  }
  return SessionWrite{.name = name,
                      .hash = outcome->receipt.hash,
                      .predecessor = predecessor,
                      .created = outcome->created};
}

}  // namespace sconectl::cas
