#pragma once

#include "sconectl/manifest/service.hpp"

#include <tl/expected.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl::manifest {

// Splits `build.command` into program and arguments the way a POSIX shell would split words:
// whitespace separates, single quotes keep everything, double quotes keep everything but `\"`
// and `\\`, a backslash outside quotes escapes the next character. No expansion of any kind.
// Returns std::nullopt for unbalanced quotes or a trailing backslash.
[[nodiscard]] std::optional<std::vector<std::string>> split_command(std::string_view text);

// ---- Java kinds -------------------------------------------------------------------------------
//
// `build.copy` names .java sources, .jar archives and directories. The sources are compiled into
// `pwd` while the image is built; the class path is `pwd` followed by the copied jars, and it is
// inserted after `java` in the command unless the command already chooses one.

// What `build.copy` brings into the image of a Java kind, as absolute image paths below `pwd`.
struct JavaInputs {
  std::vector<std::string> sources;  // every copied .java file, sorted
  std::vector<std::string> jars;     // every copied .jar file, in `copy` order (directories sorted)
};

struct JavaInputError {
  std::string field;  // e.g. "build.copy[2]"
  std::string message;
};

// Why the copy entry `relative` (below `base_dir`) is not allowed for a Java kind, or nothing.
// Allowed: names ending in .java or .jar, directories, and names that do not exist (yet).
[[nodiscard]] std::optional<std::string> java_copy_problem(const std::filesystem::path& base_dir,
                                                           const std::string& relative);

// Walks `build.copy` below `service.base_dir` the way the build context copies it (directories
// recursively, entries sorted by name, symbolic links followed while they stay inside).
[[nodiscard]] tl::expected<JavaInputs, JavaInputError> java_inputs(const ServiceManifest& service,
                                                                   const std::string& pwd);

// "<pwd>:<jar>:<jar>...".
[[nodiscard]] std::string java_class_path(const std::string& pwd,
                                          const std::vector<std::string>& jars);

// `words` with "-cp <class_path>" inserted after the program when the program is `java` (or a
// path ending in /java) and its options before the main class give none of -cp, -classpath,
// --class-path or -jar. Anything else is returned unchanged.
[[nodiscard]] std::vector<std::string> with_java_class_path(std::vector<std::string> words,
                                                            const std::string& class_path);

// The command the image runs: `build.command` split into words and, for Java kinds, with the class
// path inserted (without it when the copied files cannot be read: planning the image reports that).
// Empty when the command cannot be split.
[[nodiscard]] std::vector<std::string> launch_command(const ServiceManifest& service);

}  // namespace sconectl::manifest
