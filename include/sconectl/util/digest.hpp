#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sconectl {

using Sha256 = std::array<std::uint8_t, 32>;

[[nodiscard]] Sha256 sha256(std::span<const std::uint8_t> data);
[[nodiscard]] Sha256 sha256(std::string_view data);
[[nodiscard]] std::string to_hex(std::span<const std::uint8_t> data);
// The bytes that hex digits (either case) spell; std::nullopt for an odd count or another
// character.
[[nodiscard]] std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);

// Incremental SHA-256 for streamed content.
class Sha256Hasher {
 public:
  Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  ~Sha256Hasher();
  void update(const void* data, std::size_t size);
  // The digest of everything fed so far; the hasher starts over afterwards.
  [[nodiscard]] Sha256 finish();

 private:
  void* m_context;  // EVP_MD_CTX, kept opaque so OpenSSL stays out of this header
};

// Base58 with a 4-byte double-SHA-256 checksum, as used for CAS key hashes.
[[nodiscard]] std::string base58check_encode(std::span<const std::uint8_t> payload);
// The payload (checksum removed), or std::nullopt when the text is not valid Base58Check.
[[nodiscard]] std::optional<std::vector<std::uint8_t>> base58check_decode(std::string_view text);

}  // namespace sconectl
