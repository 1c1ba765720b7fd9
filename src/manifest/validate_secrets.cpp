#include "parse_document.hpp"
#include "parse_fields.hpp"
#include "sconectl/manifest/secret_reference.hpp"

#include <algorithm>
#include <regex>
#include <set>
#include <string_view>

namespace sconectl::manifest::detail {

namespace {

using Kinds = std::initializer_list<SecretKind>;

bool is_one_of(SecretKind kind, Kinds kinds)
{
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

std::string describe(Kinds kinds)
{
  std::vector<std::string_view> names;
  for (const auto kind : kinds) {
    names.push_back(to_string(kind));
  }
  if (names.size() == 1) {
    return std::string(names.front()) + " secrets";
  }
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    text += i == 0 ? "" : (i + 1 == names.size() ? " and " : ", ");
    text += names[i];
  }
  return text + " secrets";
}

class SecretChecker {
 public:
  SecretChecker(const SecretDefinition& secret, ParseContext& context)
      : m_secret(secret), m_context(context)
  {
  }

  void error(const std::string& field, const std::string& message)
  {
    m_context.error(m_secret.at.of(field), join_path(m_secret.at.path, field), message);
  }

  // Reports `field` when it is set but does not apply to this secret's kind.
  void only_for(const std::string& field, bool is_set, Kinds kinds)
  {
    if (is_set && !is_one_of(m_secret.kind, kinds)) {
      error(field,
            "applies only to " + describe(kinds) + ", not to "
                + std::string(to_string(m_secret.kind)) + " secret '" + m_secret.name + "'");
    }
  }

 private:
  const SecretDefinition& m_secret;
  ParseContext& m_context;
};

// "an ascii secret", "a private-key secret", "an x509 secret".
std::string with_article(SecretKind kind)
{
  const auto name = std::string(to_string(kind));
  return (std::string("aeiox").find(name.front()) != std::string::npos ? "an " : "a ") + name;
}

bool looks_like_pem(const std::string& value, std::string_view label_part)
{
  const auto begin = value.find("-----BEGIN ");
  return begin != std::string::npos && value.find(label_part, begin) != std::string::npos
         && value.find("-----END ", begin) != std::string::npos;
}

void check_value(const SecretDefinition& secret, SecretChecker& checker)
{
  if (!secret.value) {
    return;
  }
  switch (secret.kind) {
    case SecretKind::binary: {
      // A block scalar (`value: |`) ends with a line break: whitespace around the digits is not
      // part of the value, as for the CAS that decodes it.
      std::string_view v = *secret.value;
      const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
      while (!v.empty() && is_space(v.front())) {
        v.remove_prefix(1);
      }
      while (!v.empty() && is_space(v.back())) {
        v.remove_suffix(1);
      }
      const bool hex =
          !v.empty() && v.size() % 2 == 0 && std::all_of(v.begin(), v.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0;
          });
      if (!hex) {
        checker.error("value", "an explicit binary value must be an even number of hex digits");
      }
      break;
    }
    case SecretKind::private_key:
      if (!looks_like_pem(*secret.value, "-----BEGIN PRIVATE KEY-----")) {
        checker.error("value",
                      "an explicit private key must be PEM-encoded PKCS#8 "
                      "(-----BEGIN PRIVATE KEY-----)");
      }
      break;
    case SecretKind::public_key:
      if (!looks_like_pem(*secret.value, "PUBLIC KEY-----")) {
        checker.error("value",
                      "an explicit public key must be PEM-encoded "
                      "(-----BEGIN PUBLIC KEY-----)");
      }
      break;
    case SecretKind::x509:
    case SecretKind::x509_ca:
      if (!looks_like_pem(*secret.value, "CERTIFICATE-----")) {
        checker.error("value",
                      "an explicit certificate must be PEM-encoded "
                      "(-----BEGIN CERTIFICATE-----)");
      }
      break;
    case SecretKind::aad_token:
    case SecretKind::pgp_key:
      checker.error("value",
                    "CAS generates " + std::string(to_string(secret.kind))
                        + " secrets; they cannot have an explicit value");
      break;
    case SecretKind::ascii:
      break;
  }
}

void check_attributes(const SecretDefinition& secret, ParseContext& context)
{
  SecretChecker checker(secret, context);
  const Kinds generated_text{SecretKind::ascii, SecretKind::binary};
  const Kinds certificates{SecretKind::x509, SecretKind::x509_ca};
  checker.only_for("size", secret.size.has_value(), generated_text);
  checker.only_for("key_type", secret.key_type.has_value(), {SecretKind::private_key});
  checker.only_for("migrate",
                   secret.migrate.has_value(),
                   {SecretKind::private_key, SecretKind::x509, SecretKind::x509_ca});
  checker.only_for(
      "private_key",
      secret.private_key.has_value(),
      {SecretKind::x509, SecretKind::x509_ca, SecretKind::public_key, SecretKind::aad_token});
  checker.only_for("issuer", secret.issuer.has_value(), certificates);
  checker.only_for("common_name", secret.common_name.has_value(), certificates);
  checker.only_for("valid_for", secret.valid_for.has_value(), certificates);
  checker.only_for("dns", !secret.dns.empty(), {SecretKind::x509});
  checker.only_for("san", !secret.san.empty(), {SecretKind::x509});
  checker.only_for("endpoint", secret.endpoint.has_value(), {SecretKind::x509});
  for (const auto* field :
       {"tenant_id", "client_id", "application_secret", "certificate_thumbprint"}) {
    const bool is_set = secret.at.fields.count(field) > 0;
    checker.only_for(field, is_set, {SecretKind::aad_token});
  }
  check_value(secret, checker);

  if (secret.value && secret.size) {
    context.warning(secret.at.of("size"),
                    join_path(secret.at.path, "size"),
                    "ignored: the secret has an explicit value");
  }
  if (is_one_of(secret.kind, certificates) && !secret.value && !secret.private_key) {
    checker.error("private_key",
                  "a generated certificate needs 'private_key' naming a "
                  "private-key secret");
  }
  if (secret.kind == SecretKind::public_key && !secret.value && !secret.private_key) {
    checker.error("private_key",
                  "a public-key secret needs 'private_key' naming the private-key secret it "
                  "belongs to, or an explicit value");
  }
  if (secret.endpoint == CertificateEndpoint::client && !secret.dns.empty()) {
    checker.error("dns", "a certificate with a client endpoint cannot carry DNS names");
  }
  for (const auto& entry : secret.san) {
    if (entry.rfind("dns:", 0) != 0 && entry.rfind("ip:", 0) != 0) {
      checker.error("san", "entry '" + entry + "' must start with dns: or ip:");
    }
  }
  if (secret.valid_for) {
    static const std::regex duration(
        R"(\s*[0-9]+\s*(s|m|h|d|w|y|seconds?|minutes?|hours?|days?|weeks?|months?|years?)\s*)");
    if (!std::regex_match(*secret.valid_for, duration)) {
      checker.error("valid_for",
                    "expected a duration such as '90 days' or '1 year', got "
                        + quoted_excerpt(*secret.valid_for));
    }
  }
  if (secret.kind == SecretKind::aad_token) {
    if (!secret.tenant_id || !secret.client_id) {
      checker.error("kind", "an aad-token secret needs tenant_id and client_id");
    }
    if (!secret.application_secret && !(secret.private_key && secret.certificate_thumbprint)) {
      checker.error("kind",
                    "an aad-token secret needs application_secret, or private_key with "
                    "certificate_thumbprint");
    }
  }
  if (secret.export_public == true
      && !is_one_of(secret.kind, {SecretKind::x509, SecretKind::x509_ca, SecretKind::public_key})) {
    context.warning(secret.at.of("export_public"), join_path(secret.at.path, "export_public"),
                    "makes the value of " + std::string(to_string(secret.kind)) + " secret '"
                        + secret.name + "' readable by anyone; meant for certificates and "
                                        "public keys");
  }
}

// The part of an export target that the session-name rules apply to: a relative reference
// ("../sibling", "./child") is checked without its prefix, and {{namespace}}, which the mesh
// replaces (service manifests cannot know it), as a plain segment.
std::string checkable_session_name(std::string text)
{
  for (const auto* reference : {"{{namespace}}", "{{ namespace }}"}) {
    for (auto at = text.find(reference); at != std::string::npos; at = text.find(reference)) {
      text.replace(at, std::string_view(reference).size(), "namespace");
    }
  }
  if (text.starts_with("../")) {
    return text.substr(3);
  }
  if (text.starts_with("./")) {
    return text.substr(2);
  }
  return text;
}

void check_exports(const SecretDefinition& secret, ParseContext& context)
{
  for (std::size_t i = 0; i < secret.exports.size(); ++i) {
    const auto& entry = secret.exports[i];
    const auto& path = entry.at.path;
    if (entry.session.has_value() == entry.namespace_name.has_value()) {
      context.error(entry.at.self, path, "an export names either 'session' or 'namespace'");
      continue;
    }
    const auto& written = entry.session ? *entry.session : *entry.namespace_name;
    const auto field = entry.session ? "session" : "namespace";
    const auto target = checkable_session_name(written);
    if (const auto problem = check_session_name(target); !problem.empty()) {
      context.error(entry.at.of(field),
                    join_path(path, field),
                    "'" + written + "' is not a valid session name; expected " + problem);
    }
    if (entry.session_hash && !is_hex(*entry.session_hash, 64)) {
      context.error(
          entry.at.of("session_hash"), join_path(path, "session_hash"), "expected 64 hex digits");
    }
    if (entry.session_hash && entry.namespace_name) {
      context.error(entry.at.of("session_hash"),
                    join_path(path, "session_hash"),
                    "applies only to an export to a session");
    }
  }
}

}  // namespace

void validate_secret_definitions(const std::vector<SecretDefinition>& secrets,
                                 ParseContext& context)
{
  std::map<std::string, SourcePosition> seen;
  for (const auto& secret : secrets) {
    const auto name_path = join_path(secret.at.path, "name");
    if (const auto problem = check_secret_name(secret.name); !problem.empty()) {
      context.error(secret.at.of("name"),
                    name_path,
                    "'" + secret.name + "' is not a valid secret name; expected " + problem);
    }
    const auto [first, inserted] = seen.emplace(secret.name, secret.at.of("name"));
    if (!inserted) {
      context.error(secret.at.of("name"),
                    name_path,
                    "duplicate secret '" + secret.name + "' (first defined at line "
                        + std::to_string(first->second.line) + ")");
    }
    check_attributes(secret, context);
    check_exports(secret, context);
  }
}

void check_secret_references(const std::string& text,
                             SourcePosition at,
                             const std::string& path,
                             const KnownSecrets& known,
                             ParseContext& context)
{
  const auto scan = find_secret_references(text);
  for (const auto& problem : scan.problems) {
    context.error(at, path, problem);
  }
  for (const auto& reference : scan.references) {
    const auto found = known.find(reference.name);
    if (found == known.end()) {
      std::vector<std::string> names;
      for (const auto& entry : known) {
        names.push_back(entry.first);
      }
      std::string message = reference.text + " refers to undefined secret '" + reference.name + "'";
      const auto suggestion = closest_match(reference.name, names);
      if (!suggestion.empty()) {
        message += " (did you mean '" + suggestion + "'?)";
      } else {
        message += " (define it in secrets.global or list it in secrets.import)";
      }
      context.error(at, path, std::move(message));
      continue;
    }
    const auto& kind = found->second;
    if (kind && !is_valid_format(*kind, reference.format)) {
      const auto formats = describe_formats(*kind);
      context.error(at,
                    path,
                    reference.text + ": format '" + reference.format + "' does not apply to "
                        + std::string(to_string(*kind)) + " secret '" + reference.name + "' ("
                        + (formats == "none" ? std::string(to_string(*kind))
                                                   + " secrets take no format; write $$SCONE::"
                                                   + reference.name + "$$"
                                             : "formats: " + formats)
                        + ")");
    } else if (!kind && !is_known_format(reference.format)) {
      context.error(at, path, reference.text + ": unknown format '" + reference.format + "'");
    }
    if (!reference.filter.empty() && reference.filter != "escape(json)") {
      context.error(
          at,
          path,
          reference.text + ": unknown filter '" + reference.filter + "' (supported: escape(json))");
    }
  }
}

void check_secret_links(const std::vector<SecretDefinition>& secrets,
                        const KnownSecrets& known,
                        ParseContext& context)
{
  auto check = [&](const SecretDefinition& secret,
                   const std::string& field,
                   const std::optional<std::string>& target,
                   SecretKind wanted) {
    if (!target) {
      return;
    }
    const auto found = known.find(*target);
    const auto path = join_path(secret.at.path, field);
    if (found == known.end()) {
      context.error(secret.at.of(field),
                    path,
                    "refers to undefined secret '" + *target + "' (define it as "
                        + with_article(wanted) + " secret, or import it)");
    } else if (found->second && *found->second != wanted) {
      context.error(secret.at.of(field),
                    path,
                    "'" + *target + "' is " + with_article(*found->second) + " secret; expected "
                        + with_article(wanted) + " secret");
    }
  };
  std::map<std::string, std::string> issuer_of;
  for (const auto& secret : secrets) {
    check(secret, "private_key", secret.private_key, SecretKind::private_key);
    check(secret, "issuer", secret.issuer, SecretKind::x509_ca);
    if (secret.issuer) {
      issuer_of[secret.name] = *secret.issuer;
    }
  }
  for (const auto& secret : secrets) {
    std::set<std::string> chain{secret.name};
    for (auto next = issuer_of.find(secret.name); next != issuer_of.end();
         next = issuer_of.find(next->second)) {
      if (next->second == secret.name) {
        context.error(secret.at.of("issuer"),
                      join_path(secret.at.path, "issuer"),
                      "issuer chain of '" + secret.name + "' leads back to itself");
        break;
      }
      if (!chain.insert(next->second).second) {
        break;
      }
    }
  }
}

}  // namespace sconectl::manifest::detail
