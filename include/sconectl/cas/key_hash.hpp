#pragma once

#include "sconectl/util/digest.hpp"
#include "sconectl/util/error.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

// Key hashes identify TLS peers by their public key, so a renewed certificate for the same key
// keeps its identity. Format (docs/cas.md): Base58Check of the version byte 0x01 followed by the
// SHA-256 of the DER SubjectPublicKeyInfo; 50 characters.
namespace sconectl::cas {

inline constexpr std::uint8_t k_key_hash_version = 0x01;
inline constexpr std::size_t k_key_hash_length = 50;

[[nodiscard]] std::string key_hash_of_spki(std::span<const std::uint8_t> spki_der);

// The key hash of the first certificate in a PEM text.
[[nodiscard]] Result<std::string> key_hash_of_certificate(std::string_view certificate_pem);

// The SHA-256 of the public key that a key hash names, or std::nullopt when `text` is not a
// well-formed key hash (wrong alphabet, checksum, length or version).
[[nodiscard]] std::optional<Sha256> parse_key_hash(std::string_view text);

// Why `text` is not a key hash ("" when it is one), for messages that name the field.
[[nodiscard]] std::string key_hash_problem(std::string_view text);

}  // namespace sconectl::cas
