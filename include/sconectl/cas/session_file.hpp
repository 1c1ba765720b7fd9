#pragma once

#include "sconectl/cas/client.hpp"
#include "sconectl/manifest/variables.hpp"
#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

// Hand-written sessions, as SCONE's tutorials upload them with `scone session create --use-env`
// (docs/cas.md, "Hand-written sessions").
namespace sconectl::cas {

struct SessionFileOptions {
  std::map<std::string, std::string> set;  // -e NAME=VALUE, ahead of the environment
  manifest::VariableLookup environment = manifest::process_environment();
};

// Reads a session file and expands `$NAME`, `${NAME}` and `${NAME:-default}` in every string value
// (after parsing, so no value can change the document's structure). `$$` and `$$SCONE::...$$` stay
// as written. Undefined variables are one error (kind manifest) that names the file and every
// one of them; so are the problems validate_session finds.
[[nodiscard]] Result<model::SessionDocument> load_session_file(const std::filesystem::path& file,
                                                               const SessionFileOptions& options);
// The two halves of load_session_file, for a caller that keeps the text to place problems in it
// (session_problem): the file's text (at most 4 MiB), and the session in a text read from `file`.
[[nodiscard]] Result<std::string> read_session_text(const std::filesystem::path& file);
[[nodiscard]] Result<model::SessionDocument> session_from_text(const std::filesystem::path& file,
                                                               std::string_view text,
                                                               const SessionFileOptions& options);

// Where field `path` of a session (as validate_session and the local CAS name it:
// "services[0].environment.NAME") is written in the session file's `text`: its key (or, for a list
// element, the element), else the deepest field on the way that is there (for a missing key, the
// mapping that lacks it). 1-based; {0, 0} when the text is not readable YAML.
struct SessionFieldPosition {
  int line = 0;
  int column = 0;
};
[[nodiscard]] SessionFieldPosition session_field_position(std::string_view text,
                                                          std::string_view path);

// A problem worded as the session check and the local CAS word them, "PATH: what" (also
// "session 'NAME': PATH: what"), as a diagnostic of `file` at PATH's place in the file's `text`
// (session_field_position). A problem whose first part is no field path keeps its whole text and
// no position.
[[nodiscard]] Diagnostic session_problem(const std::string& file,
                                         std::string_view text,
                                         std::string_view problem,
                                         Severity severity = Severity::error);

// The predecessor a document names; `predecessor: "~"`, null or no key mean none.
[[nodiscard]] std::optional<std::string> predecessor_of(const model::SessionDocument& document);

// The creator a document names, as a CAS stores every session (and `session get` prints it);
// std::nullopt for a hand-written file, which names none.
[[nodiscard]] std::optional<std::string> creator_of(const model::SessionDocument& document);

// The hash a CAS gives `document` when `creator` (a key hash) uploads it: creator and predecessor
// are part of what is hashed.
[[nodiscard]] std::string expected_session_hash(model::SessionDocument document,
                                                const std::string& creator);

enum class SessionWriteMode { create, update };

struct SessionWrite {
  std::string name;
  std::string hash;
  std::optional<std::string> predecessor;
  bool created = false;
};

// Uploads a hand-written session. create: it must name no predecessor and the name must be new.
// update: without a predecessor, the current version's hash is read and used (as
// `scone session update` does). A predecessor conflict is an ErrorKind::conflict error naming
// both hashes. The hash the CAS answers must be the one expected for what was sent, with
// `creator` as the creator of a new session (an update keeps the stored one). When the CAS refuses
// the session (400) and names its problems, each is a diagnostic of the error without file or
// position, its message the problem as the CAS wrote it (session_problem places it in the file).
[[nodiscard]] Result<SessionWrite> write_session(CasClient& client,
                                                 model::SessionDocument document,
                                                 SessionWriteMode mode,
                                                 const std::string& creator);

}  // namespace sconectl::cas
