#pragma once

#include "sconectl/manifest/api_version.hpp"
#include "sconectl/manifest/position.hpp"
#include "sconectl/manifest/secret.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sconectl::manifest {

// `environment.local` entries always have a value; `environment.global` entries may carry a
// default, and the mesh must set those that do not.
struct EnvironmentVariable {
  std::string name;
  std::optional<std::string> value;
  FieldPositions at;
};

// A file that exists only inside the enclave; `content` may hold $$SCONE:: and {{NAME}} references.
struct InjectionFile {
  std::string path;
  std::string content;
  FieldPositions at;
};

struct VolumeImport {
  std::string session;
  std::string volume;
};

struct VolumeExport {
  std::string session;
  std::optional<std::string> session_hash;
  std::optional<std::string> update_policy;
  std::optional<std::string> volume_alias;
  FieldPositions at;
};

struct Volume {
  std::string name;
  std::optional<std::string> path;
  std::optional<VolumeImport> import;
  std::vector<VolumeExport> exports;
  FieldPositions at;
};

// Image flavours of `build.kind`; each has a documented default base image.
enum class BuildKind {
  python,
  java,
  java8,
  java15,
  java17,
  java17_bullseye,
  java21,
  java21_ubuntu,
  java_glibc,
  sconify_image,
};

[[nodiscard]] std::string_view to_string(BuildKind kind);
[[nodiscard]] std::optional<BuildKind> build_kind_from(std::string_view text);
[[nodiscard]] std::vector<std::string_view> build_kind_names();
// True for the Java kinds (`java`, `java8`, `java15`, `java17`, ...): their sources are compiled
// while the image is built and the command gets a class path.
[[nodiscard]] bool is_java(BuildKind kind);

// The working directory in the image when `build.pwd` is absent.
inline constexpr const char* k_default_pwd = "/app";

struct Signature {
  std::optional<bool> sign;
  std::optional<std::string> key;
};

struct Build {
  std::string name;
  BuildKind kind = BuildKind::python;
  std::string to;
  std::optional<std::string> from;
  std::optional<std::string> pwd;
  std::string command;
  std::vector<std::string> copy;
  std::optional<std::string> requirements;
  std::vector<std::string> run;
  std::optional<Signature> signature;
  std::vector<std::string> binaries;
  std::vector<std::string> dirs;
  std::vector<std::string> fs_dirs;
  std::vector<std::string> fs_files;
  std::vector<std::string> plains;
  std::vector<std::string> plain_files;
  std::vector<std::string> host_paths;
  std::optional<std::string> stable;
  std::vector<Volume> volumes;
  std::optional<std::string> gen_policy;
  FieldPositions at;
};

// A `kind: genservice` manifest after variable expansion and validation.
struct ServiceManifest {
  std::string source;              // the file name as the user gave it, for messages
  std::filesystem::path base_dir;  // relative paths (copy, requirements) resolve against it
  ApiVersion api_version;
  std::vector<EnvironmentVariable> local_environment;
  std::vector<EnvironmentVariable> global_environment;
  std::vector<SecretDefinition> secrets;
  std::vector<SecretImport> imported_secrets;
  std::vector<InjectionFile> injection_files;
  Build build;
};

}  // namespace sconectl::manifest
