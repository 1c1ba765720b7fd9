#include "sconectl/cas/key_hash.hpp"

#include "sconectl/util/x509.hpp"

#include <vector>

namespace sconectl::cas {

std::string key_hash_of_spki(std::span<const std::uint8_t> spki_der)
{
  const auto digest = sha256(spki_der);
  std::vector<std::uint8_t> payload;
  payload.reserve(1 + digest.size());
  payload.push_back(k_key_hash_version);
  payload.insert(payload.end(), digest.begin(), digest.end());
  return base58check_encode(payload);
}

Result<std::string> key_hash_of_certificate(std::string_view certificate_pem)
{
  auto spki = x509::certificate_spki(certificate_pem);
  if (!spki) {
    return forward_error(std::move(spki.error()));
  }
  return key_hash_of_spki(*spki);
}

std::string key_hash_problem(std::string_view text)
{
  if (text.size() != k_key_hash_length) {
    return "a key hash has " + std::to_string(k_key_hash_length) + " characters, this one "
           + std::to_string(text.size());
  }
  const auto payload = base58check_decode(text);
  if (!payload) {
    return "not valid Base58Check (a character outside the alphabet, or a wrong checksum)";
  }
  if (payload->size() != 33 || payload->front() != k_key_hash_version) {
    return "not a certificate key hash (expected version byte 0x01 and a 32-byte SHA-256)";
  }
  return {};
}

std::optional<Sha256> parse_key_hash(std::string_view text)
{
  if (!key_hash_problem(text).empty()) {
    return std::nullopt;
  }
  const auto payload = base58check_decode(text);
  Sha256 digest{};
  std::copy(payload->begin() + 1, payload->end(), digest.begin());
  return digest;
}

}  // namespace sconectl::cas
