#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sconectl::manifest {

// An OCI image reference, as the distribution reference grammar reads it:
//   [registry[:port]/]path[:tag][@sha256:<64 hex>]
// The first component is a registry when it is a valid host[:port] and has a '.', a ':' or an
// upper-case letter, is "localhost", or is a bracketed IPv6 address ("[::1]:5000"); otherwise it
// is part of the path ("team/app" is on the default registry). The one parser of image
// references: every reader of one goes through it.
struct ImageReference {
  std::string registry;  // "host", "host:port" or "[v6]:port"; empty for the default registry
  std::string path;      // "team/app"
  std::optional<std::string> tag;
  std::optional<std::string> digest;  // "sha256:<64 hex>"

  // registry/path: what `docker push` pushes to and RepoDigests entries start with.
  [[nodiscard]] std::string repository() const;
  // repository[:tag], the reference without its digest.
  [[nodiscard]] std::string without_digest() const;
  [[nodiscard]] std::string tag_or_latest() const { return tag.value_or("latest"); }
  // The last path component ("app").
  [[nodiscard]] std::string name() const;
  // The reference as written (repository[:tag][@digest]).
  [[nodiscard]] std::string to_string() const;
};

// std::nullopt when `text` is not a valid reference (see names.hpp check_image_reference for the
// message a manifest field gets).
[[nodiscard]] std::optional<ImageReference> parse_image_reference(std::string_view text);

}  // namespace sconectl::manifest
