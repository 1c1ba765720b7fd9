#include "secret_generation.hpp"

#include "certificate_spec.hpp"
#include "sconectl/model/export_match.hpp"
#include "sconectl/util/x509.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>

namespace sconectl::cas::server {

namespace {

using Json = model::SessionDocument;

constexpr std::uint64_t k_default_size = 20;
constexpr std::uint64_t k_max_size = 64 * 1024;
constexpr const char* k_default_key_type = "P-256";

bool flag(const Json& object, const char* key)
{
  return object.contains(key) && object.at(key).is_boolean() && object.at(key).get<bool>();
}

Result<std::uint64_t> size_of(const Json& secret, const std::string& name)
{
  if (!secret.contains("size")) {
    return k_default_size;
  }
  const auto& size = secret.at("size");
  if (!size.is_number_unsigned() || size.get<std::uint64_t>() == 0
      || size.get<std::uint64_t>() > k_max_size) {
    return refuse_secret("secret '" + name + "': size must be from 1 to "
                         + std::to_string(k_max_size));
  }
  return size.get<std::uint64_t>();
}

Result<std::string> random_bytes(std::uint64_t size)
{
  std::string bytes(size, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size)) != 1) {
    return fail(ErrorKind::internal, "the random number generator failed");
  }
  return bytes;
}

// Printable ASCII without space, '$' (which would end a $$SCONE:: placeholder) and '\'.
Result<std::string> random_ascii(std::uint64_t size)
{
  std::string alphabet;
  for (char c = 0x21; c <= 0x7e; ++c) {
    if (c != '$' && c != '\\') {
      alphabet.push_back(c);
    }
  }
  // Rejection sampling keeps every character equally likely.
  const auto limit = 256U - 256U % alphabet.size();
  std::string text;
  while (text.size() < size) {
    auto bytes = random_bytes(size);
    if (!bytes) {
      return forward_error(std::move(bytes.error()));
    }
    for (const char byte : *bytes) {
      const auto value = static_cast<unsigned char>(byte);
      if (value < limit && text.size() < size) {
        text.push_back(alphabet[value % alphabet.size()]);
      }
    }
  }
  return text;
}

class Generator {
 public:
  Generator(const Json& session,
            const std::optional<PreviousVersion>& previous,
            const SecretLookup& imported)
      : m_session(session), m_previous(previous), m_imported(imported)
  {
    m_name = secret_text(session, "name");
  }

  Result<SecretValues> run()
  {
    std::vector<std::pair<std::string, const Json*>> authorities;
    std::vector<std::pair<std::string, const Json*>> leaves;
    for (const auto& [name, secret] : generated_secrets()) {
      const auto kind = secret_text(*secret, "kind");
      if (kind == "x509-ca" || kind == "x509") {
        (kind == "x509-ca" ? authorities : leaves).emplace_back(name, secret);
      } else if (auto done = generate_plain(name, *secret, kind); !done) {
        return forward_error(std::move(done.error()));
      }
    }
    // CAs may be issued by other CAs of this session: issue those whose issuer is ready first.
    while (!authorities.empty()) {
      const auto before = authorities.size();
      for (auto it = authorities.begin(); it != authorities.end();) {
        const auto issuer = secret_text(*it->second, "issuer");
        if (!issuer.empty() && waits_for(issuer)) {
          ++it;
          continue;
        }
        TRY(issue(it->first, *it->second, true));
        it = authorities.erase(it);
      }
      if (authorities.size() == before) {
        return refuse_secret("secret '" + authorities.front().first
                             + "': the issuers of its x509-ca secrets form a cycle");
      }
    }
    for (const auto& [name, secret] : leaves) {
      TRY(issue(name, *secret, false));
    }
    return std::move(m_values);
  }

 private:
  std::vector<std::pair<std::string, const Json*>> generated_secrets() const
  {
    std::vector<std::pair<std::string, const Json*>> found;
    if (!m_session.contains("secrets") || !m_session.at("secrets").is_array()) {
      return found;
    }
    for (const auto& secret : m_session.at("secrets")) {
      if (secret.is_object() && !secret.contains("value") && !secret.contains("import")
          && !secret_text(secret, "name").empty()) {
        found.emplace_back(secret_text(secret, "name"), &secret);
      }
    }
    return found;
  }

  // The value the replaced version held for `name`, when it had the same kind.
  const StoredSecret* previous_value(const std::string& name, const std::string& kind) const
  {
    if (!m_previous) {
      return nullptr;
    }
    const auto found = m_previous->values.find(name);
    return found != m_previous->values.end() && found->second.kind == kind ? &found->second
                                                                           : nullptr;
  }

  bool keeps_private_key(const std::string& name, const Json& secret) const
  {
    const Json* before = m_previous ? model::find_secret(m_previous->document, name) : nullptr;
    return before != nullptr && flag(*before, "migrate") && flag(secret, "migrate")
           && secret_text(*before, "key_type", k_default_key_type)
                  == secret_text(secret, "key_type", k_default_key_type);
  }

  Result<void> generate_plain(const std::string& name, const Json& secret, const std::string& kind)
  {
    Result<std::string> value;
    if (kind == "ascii" || kind == "binary") {
      auto size = size_of(secret, name);
      if (!size) {
        return forward_error(std::move(size.error()));
      }
      // Kept across updates while the definition stays; a new size rolls the value over.
      if (const auto* kept = previous_value(name, kind); kept && kept->value.size() == *size) {
        m_values[name] = *kept;
        return {};
      }
      value = kind == "ascii" ? random_ascii(*size) : random_bytes(*size);
    } else if (kind == "private-key") {
      const auto* kept = previous_value(name, kind);
      if (kept != nullptr && keeps_private_key(name, secret)) {
        m_values[name] = *kept;
        return {};
      }
      const auto type_name = secret_text(secret, "key_type", k_default_key_type);
      const auto type = x509::key_type_from(type_name);
      if (!type) {
        return refuse_secret("secret '" + name + "': unknown key_type '" + type_name
                             + "'; expected P-256, P-384, Ed25519, RSA-2048 or RSA-3072");
      }
      auto key = x509::PrivateKey::generate(*type);
      if (!key) {
        return forward_error(std::move(key.error()));
      }
      value = key->pem();
      m_keys.emplace(key->pem(), std::move(*key));
    } else {
      return {};  // public-key is derived when read; aad-token and config-fragment hold nothing
    }
    if (!value) {
      return forward_error(std::move(value.error()));
    }
    m_values[name] = StoredSecret{.kind = kind, .value = std::move(*value)};
    return {};
  }

  // Whether `issuer` is a CA of this session that is still to be issued.
  bool waits_for(const std::string& issuer) const
  {
    const Json* secret = model::find_secret(m_session, issuer);
    return secret != nullptr && !secret->contains("value") && !secret->contains("import")
           && secret_text(*secret, "kind") == "x509-ca" && m_values.count(issuer) == 0;
  }

  Result<std::optional<StoredSecret>> imported(const Json& secret) const
  {
    const auto& import = secret.at("import");
    const auto pin = secret_text(import, "session_hash");
    return m_imported(model::absolute_session_name(secret_text(import, "session"), m_name),
                      secret_text(import, "secret"),
                      pin.empty() ? std::nullopt : std::optional<std::string>(pin));
  }

  // Each key is decoded once per session, however many certificates use it.
  Result<x509::PrivateKey> decoded(const std::string& pem)
  {
    if (const auto found = m_keys.find(pem); found != m_keys.end()) {
      return found->second;
    }
    auto key = x509::PrivateKey::from_pem(pem);
    if (!key) {
      return forward_error(std::move(key.error()));
    }
    return m_keys.emplace(pem, std::move(*key)).first->second;
  }

  Result<x509::PrivateKey> private_key_named(const std::string& key, const std::string& user)
  {
    if (const auto found = m_values.find(key);
        found != m_values.end() && found->second.kind == "private-key") {
      return decoded(found->second.value);
    }
    const Json* secret = model::find_secret(m_session, key);
    if (secret != nullptr && secret->contains("value") && secret->at("value").is_string()) {
      return decoded(secret->at("value").get<std::string>());
    }
    if (secret != nullptr && secret->contains("import")) {
      auto value = imported(*secret);
      if (!value) {
        return forward_error(std::move(value.error()));
      }
      if (*value && (*value)->kind == "private-key") {
        return decoded((*value)->value);
      }
    }
    return refuse_secret("secret '" + user + "': its private_key '" + key
                         + "' has no value in this CAS");
  }

  Result<x509::Signer> signer_named(const std::string& issuer, const std::string& user)
  {
    std::optional<StoredSecret> authority;
    if (const auto found = m_values.find(issuer); found != m_values.end()) {
      authority = found->second;
    } else if (const Json* secret = model::find_secret(m_session, issuer);
               secret != nullptr && secret->contains("import")) {
      auto value = imported(*secret);
      if (!value) {
        return forward_error(std::move(value.error()));
      }
      if (!*value) {
        return refuse_secret(
            "secret '" + user + "': its issuer '" + issuer + "', imported from session '"
            + model::absolute_session_name(secret_text(secret->at("import"), "session"), m_name)
            + "', has no value in this CAS");
      }
      authority = std::move(*value);
    }
    if (!authority || authority->kind != "x509-ca" || authority->private_key.empty()) {
      return refuse_secret("secret '" + user + "': its issuer '" + issuer
                           + "' is not an x509-ca this CAS generated, so it cannot sign with it");
    }
    auto key = decoded(authority->private_key);
    if (!key) {
      return forward_error(std::move(key.error()));
    }
    auto certificate = m_certificates.find(authority->value);
    if (certificate == m_certificates.end()) {
      auto decoded = x509::decode_certificate(authority->value);
      if (!decoded) {
        return refuse_secret("secret '" + user + "': its issuer '" + issuer
                             + "' does not hold a PEM certificate");
      }
      certificate = m_certificates.emplace(authority->value, std::move(*decoded)).first;
    }
    return x509::Signer{.private_key = std::move(*key),
                        .certificate_pem = authority->value,
                        .certificate = certificate->second};
  }

  Result<void> issue(const std::string& name, const Json& secret, bool is_ca)
  {
    auto spec = certificate_spec(name, secret, is_ca);
    if (!spec) {
      return forward_error(std::move(spec.error()));
    }
    const auto key_name = secret_text(secret, "private_key");
    auto key = key_name.empty() ? x509::PrivateKey::generate(x509::KeyType::p256)
                                : private_key_named(key_name, name);
    if (!key) {
      return forward_error(std::move(key.error()));
    }
    std::optional<x509::Signer> signer;
    if (const auto issuer = secret_text(secret, "issuer"); !issuer.empty()) {
      auto found = signer_named(issuer, name);
      if (!found) {
        return forward_error(std::move(found.error()));
      }
      signer = std::move(*found);
    }
    auto certificate = x509::issue_decoded_certificate(*spec, *key, signer);
    if (!certificate) {
      return forward_error(std::move(certificate.error()));
    }
    if (is_ca) {
      m_certificates.emplace(certificate->pem, certificate->certificate);
    }
    m_values[name] = StoredSecret{.kind = is_ca ? "x509-ca" : "x509",
                                  .value = std::move(certificate->pem),
                                  .private_key = key->pem()};
    return {};
  }

  const Json& m_session;
  const std::optional<PreviousVersion>& m_previous;
  const SecretLookup& m_imported;
  std::string m_name;
  SecretValues m_values;
  std::map<std::string, x509::PrivateKey> m_keys;  // by PEM text
  // The certificate authorities' certificates, decoded once per session: by PEM text.
  std::map<std::string, std::shared_ptr<x509_st>> m_certificates;
};

}  // namespace

Result<SecretValues> generate_secrets(const Json& session,
                                      const std::optional<PreviousVersion>& previous,
                                      const SecretLookup& imported)
{
  return Generator(session, previous, imported).run();
}

}  // namespace sconectl::cas::server
