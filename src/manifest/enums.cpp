#include "sconectl/manifest/mesh.hpp"
#include "sconectl/manifest/secret.hpp"
#include "sconectl/manifest/service.hpp"

#include <array>
#include <utility>

namespace sconectl::manifest {

namespace {

// One spelling per value: the same table converts both ways, so they cannot drift apart.
template <class Enum, std::size_t N>
using Names = std::array<std::pair<Enum, std::string_view>, N>;

constexpr Names<SecretKind, 8> k_secret_kinds{{{SecretKind::ascii, "ascii"},
                                               {SecretKind::binary, "binary"},
                                               {SecretKind::private_key, "private-key"},
                                               {SecretKind::public_key, "public-key"},
                                               {SecretKind::x509, "x509"},
                                               {SecretKind::x509_ca, "x509-ca"},
                                               {SecretKind::aad_token, "aad-token"},
                                               {SecretKind::pgp_key, "pgp-key"}}};

constexpr Names<KeyType, 5> k_key_types{{{KeyType::p256, "P-256"},
                                         {KeyType::p384, "P-384"},
                                         {KeyType::ed25519, "Ed25519"},
                                         {KeyType::rsa2048, "RSA-2048"},
                                         {KeyType::rsa3072, "RSA-3072"}}};

constexpr Names<CertificateEndpoint, 2> k_endpoints{
    {{CertificateEndpoint::server, "server"}, {CertificateEndpoint::client, "client"}}};

constexpr Names<BuildKind, 10> k_build_kinds{{{BuildKind::python, "python"},
                                              {BuildKind::java, "java"},
                                              {BuildKind::java8, "java8"},
                                              {BuildKind::java15, "java15"},
                                              {BuildKind::java17, "java17"},
                                              {BuildKind::java17_bullseye, "java17-bullseye"},
                                              {BuildKind::java21, "java21"},
                                              {BuildKind::java21_ubuntu, "java21-ubuntu"},
                                              {BuildKind::java_glibc, "java-glibc"},
                                              {BuildKind::sconify_image, "sconify_image"}}};

constexpr Names<PolicyHandling, 6> k_policy_handlings{
    {{PolicyHandling::upload, "Upload"},
     {PolicyHandling::signed_manifest, "SignedManifest"},
     {PolicyHandling::encrypted_manifest, "EncryptedManifest"},
     {PolicyHandling::no_upload, "NoUpload"},
     {PolicyHandling::encrypted_only, "EncryptedOnly"},
     {PolicyHandling::sign_online, "SignOnline"}}};

template <class Enum, std::size_t N>
std::string_view name_of(const Names<Enum, N>& names, Enum value)
{
  for (const auto& [candidate, name] : names) {
    if (candidate == value) {
      return name;
    }
  }
  return "unknown";
}

template <class Enum, std::size_t N>
std::optional<Enum> value_of(const Names<Enum, N>& names, std::string_view text)
{
  for (const auto& [value, name] : names) {
    if (name == text) {
      return value;
    }
  }
  return std::nullopt;
}

template <class Enum, std::size_t N>
std::vector<std::string_view> all_names(const Names<Enum, N>& names)
{
  std::vector<std::string_view> result;
  for (const auto& entry : names) {
    result.push_back(entry.second);
  }
  return result;
}

}  // namespace

std::vector<std::string_view> secret_kind_names()
{
  return all_names(k_secret_kinds);
}
std::vector<std::string_view> key_type_names()
{
  return all_names(k_key_types);
}
std::vector<std::string_view> endpoint_names()
{
  return all_names(k_endpoints);
}
std::vector<std::string_view> build_kind_names()
{
  return all_names(k_build_kinds);
}
std::vector<std::string_view> policy_handling_names()
{
  return all_names(k_policy_handlings);
}

std::string_view to_string(SecretKind kind)
{
  return name_of(k_secret_kinds, kind);
}
std::optional<SecretKind> secret_kind_from(std::string_view text)
{
  return value_of(k_secret_kinds, text);
}
std::string_view to_string(KeyType type)
{
  return name_of(k_key_types, type);
}
std::optional<KeyType> key_type_from(std::string_view text)
{
  return value_of(k_key_types, text);
}
std::string_view to_string(CertificateEndpoint endpoint)
{
  return name_of(k_endpoints, endpoint);
}
std::optional<CertificateEndpoint> endpoint_from(std::string_view text)
{
  return value_of(k_endpoints, text);
}
std::string_view to_string(BuildKind kind)
{
  return name_of(k_build_kinds, kind);
}
std::optional<BuildKind> build_kind_from(std::string_view text)
{
  return value_of(k_build_kinds, text);
}
bool is_java(BuildKind kind)
{
  switch (kind) {
    case BuildKind::java:
    case BuildKind::java8:
    case BuildKind::java15:
    case BuildKind::java17:
    case BuildKind::java17_bullseye:
    case BuildKind::java21:
    case BuildKind::java21_ubuntu:
    case BuildKind::java_glibc:
      return true;
    case BuildKind::python:
    case BuildKind::sconify_image:
      return false;
  }
  return false;
}

std::string_view to_string(PolicyHandling mode)
{
  return name_of(k_policy_handlings, mode);
}
std::optional<PolicyHandling> policy_handling_from(std::string_view text)
{
  return value_of(k_policy_handlings, text);
}

}  // namespace sconectl::manifest
