#include "sconectl/manifest/secret_reference.hpp"

#include <algorithm>
#include <array>
#include <span>

namespace sconectl::manifest {

namespace {

constexpr std::string_view k_prefix = "$$SCONE::";

constexpr std::array<std::string_view, 6> k_binary_formats{
    "bin", "hex", "base64", "base64url", "base32", "base32nopad"};
constexpr std::array<std::string_view, 4> k_private_key_formats{
    "pem", "der", "pkcs8:pem", "pkcs8:der"};
constexpr std::array<std::string_view, 2> k_public_key_formats{"spki:pem", "spki:der"};
// "key" is the legacy spelling `$$SCONE::name.key$$` of the certificate's private key.
constexpr std::array<std::string_view, 11> k_certificate_formats{"crt",
                                                                 "crt:pem",
                                                                 "crt:der",
                                                                 "privatekey",
                                                                 "privatekey:pem",
                                                                 "privatekey:der",
                                                                 "privatekey:pkcs8:pem",
                                                                 "privatekey:pkcs8:der",
                                                                 "chain",
                                                                 "pkcs12-with-private-key",
                                                                 "key"};
constexpr std::array<std::string_view, 6> k_pgp_formats{"privatekey:asciiarmored",
                                                        "privatekey:binary",
                                                        "privatekey:base64",
                                                        "publickey:asciiarmored",
                                                        "publickey:binary",
                                                        "publickey:base64"};

std::span<const std::string_view> formats_of(SecretKind kind)
{
  switch (kind) {
    case SecretKind::ascii:
    case SecretKind::aad_token:
      return {};
    case SecretKind::binary:
      return k_binary_formats;
    case SecretKind::private_key:
      return k_private_key_formats;
    case SecretKind::public_key:
      return k_public_key_formats;
    case SecretKind::x509:
    case SecretKind::x509_ca:
      return k_certificate_formats;
    case SecretKind::pgp_key:
      return k_pgp_formats;
  }
  return {};
}

constexpr std::array<SecretKind, 8> k_all_kinds{SecretKind::ascii,
                                                SecretKind::binary,
                                                SecretKind::private_key,
                                                SecretKind::public_key,
                                                SecretKind::x509,
                                                SecretKind::x509_ca,
                                                SecretKind::aad_token,
                                                SecretKind::pgp_key};

SecretReference parse_inner(std::string_view inner, std::string_view whole)
{
  SecretReference reference{.text = std::string(whole)};
  if (const auto bar = inner.find('|'); bar != std::string_view::npos) {
    reference.filter = std::string(inner.substr(bar + 1));
    inner = inner.substr(0, bar);
  }
  const auto split = inner.find_first_of(":.");
  reference.name = std::string(inner.substr(0, split));
  if (split != std::string_view::npos) {
    reference.format = std::string(inner.substr(split + 1));
  }
  return reference;
}

}  // namespace

SecretReferenceScan find_secret_references(std::string_view text)
{
  SecretReferenceScan scan;
  std::size_t i = 0;
  while ((i = text.find(k_prefix, i)) != std::string_view::npos) {
    const auto end = text.find("$$", i + k_prefix.size());
    if (end == std::string_view::npos) {
      scan.problems.push_back(
          "unterminated secret reference '"
          + std::string(text.substr(i, std::min<std::size_t>(40, text.size() - i)))
          + "' (expected $$SCONE::name$$)");
      break;
    }
    const auto inner = text.substr(i + k_prefix.size(), end - i - k_prefix.size());
    scan.references.push_back(parse_inner(inner, text.substr(i, end + 2 - i)));
    i = end + 2;
  }
  return scan;
}

bool is_valid_format(SecretKind kind, std::string_view format)
{
  if (format.empty()) {
    return true;
  }
  const auto formats = formats_of(kind);
  return std::find(formats.begin(), formats.end(), format) != formats.end();
}

bool is_known_format(std::string_view format)
{
  return std::any_of(k_all_kinds.begin(), k_all_kinds.end(), [&](SecretKind kind) {
    return is_valid_format(kind, format);
  });
}

std::string describe_formats(SecretKind kind)
{
  std::string text;
  for (const auto format : formats_of(kind)) {
    if (!text.empty()) {
      text += ", ";
    }
    text += format;
  }
  return text.empty() ? "none" : text;
}

}  // namespace sconectl::manifest
