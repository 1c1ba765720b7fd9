#include "placeholders.hpp"

#include "sconectl/manifest/secret_reference.hpp"
#include "sconectl/util/base64.hpp"
#include "sconectl/util/digest.hpp"
#include "sconectl/util/strings.hpp"
#include "sconectl/util/x509.hpp"

#include <openssl/evp.h>

#include <span>

namespace sconectl::cas::server {

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& text)
{
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Hex written in a session, maybe with a block scalar's line break around it.
std::optional<std::string> hex_to_bytes(std::string_view text)
{
  const auto bytes = from_hex(strings::trim(text, "\n\r \t"));
  if (!bytes) {
    return std::nullopt;
  }
  return std::string(bytes->begin(), bytes->end());
}

std::string base32(const std::string& bytes, bool pad)
{
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 5) {
      out.push_back(alphabet[(buffer >> (bits - 5)) & 31U]);
      bits -= 5;
    }
  }
  if (bits > 0) {
    out.push_back(alphabet[(buffer << (5 - bits)) & 31U]);
  }
  while (pad && out.size() % 8 != 0) {
    out.push_back('=');
  }
  return out;
}

Result<std::string> binary_in(const std::string& bytes, const std::string& format)
{
  if (format.empty() || format == "bin") return bytes;
  if (format == "hex") return to_hex(bytes_of(bytes));
  if (format == "base64") return base64::encode(bytes);
  if (format == "base64url") return base64::encode(bytes, base64::Alphabet::url);
  if (format == "base32") return base32(bytes, true);
  if (format == "base32nopad") return base32(bytes, false);
  return fail(ErrorKind::manifest, "");
}

Result<std::string> formatted(const SecretValue& secret, const std::string& format)
{
  const auto& stored = secret.stored;
  if (stored.kind == "ascii" && format.empty()) {
    return stored.value;
  }
  if (stored.kind == "binary") {
    if (!secret.written_in_session) {
      return binary_in(stored.value, format);
    }
    const auto bytes = hex_to_bytes(stored.value);
    if (!bytes) {
      return fail(ErrorKind::manifest, "its value is not hex");
    }
    return binary_in(*bytes, format);
  }
  if (stored.kind == "private-key"
      && (format.empty() || format == "pem" || format == "pkcs8:pem")) {
    return stored.value;
  }
  if (stored.kind == "x509" || stored.kind == "x509-ca") {
    if (format.empty() || format == "crt" || format == "crt:pem") {
      return stored.value;
    }
    if ((format == "privatekey" || format == "privatekey:pem" || format == "key")
        && !stored.private_key.empty()) {
      return stored.private_key;
    }
  }
  return fail(ErrorKind::manifest, "");
}

}  // namespace

Result<std::string> resolve_placeholders(std::string_view text, const SecretSource& secrets)
{
  const auto scan = manifest::find_secret_references(text);
  if (!scan.problems.empty()) {
    return fail(ErrorKind::manifest, scan.problems.front());
  }
  std::string resolved;
  std::size_t cursor = 0;
  for (const auto& reference : scan.references) {
    const auto at = text.find(reference.text, cursor);
    if (at == std::string_view::npos) {
      return fail(ErrorKind::internal, "placeholder " + reference.text + " not found again");
    }
    resolved.append(text.substr(cursor, at - cursor));
    cursor = at + reference.text.size();
    if (!reference.filter.empty()) {
      return fail(ErrorKind::manifest,
                  reference.text + ": the encoding filter '" + reference.filter
                      + "' is not supported by the local CAS");
    }
    auto secret = secrets(reference.name);
    if (!secret) {
      return forward_error(std::move(secret.error()));
    }
    if (!*secret) {
      return fail(
          ErrorKind::manifest,
          reference.text + ": the session has no value for secret '" + reference.name + "'");
    }
    auto value = formatted(**secret, reference.format);
    if (!value) {
      const auto why = value.error().message.empty()
                           ? "the local CAS cannot give a " + (*secret)->stored.kind + " secret"
                                 + (reference.format.empty() ? std::string(" here")
                                                             : " as '" + reference.format + "'")
                           : value.error().message;
      return fail(ErrorKind::manifest, reference.text + ": " + why);
    }
    resolved += *value;
  }
  resolved.append(text.substr(cursor));
  return resolved;
}

}  // namespace sconectl::cas::server
