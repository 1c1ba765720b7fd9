#include "sconectl/util/digest.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace sconectl {

namespace {

constexpr std::string_view k_alphabet =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

std::array<std::uint8_t, 4> checksum(std::span<const std::uint8_t> payload)
{
  const auto once = sha256(payload);
  const auto twice = sha256(once);
  return {twice[0], twice[1], twice[2], twice[3]};
}

}  // namespace

Sha256 sha256(std::span<const std::uint8_t> data)
{
  Sha256 digest{};
  unsigned int length = 0;
  // EVP_Digest only fails on allocation failure; an all-zero digest would then never verify.
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

Sha256 sha256(std::string_view data)
{
  return sha256(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                              data.size()));
}

Sha256Hasher::Sha256Hasher() : m_context(EVP_MD_CTX_new())
{
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(m_context), EVP_sha256(), nullptr);
}

Sha256Hasher::~Sha256Hasher()
{
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(m_context));
}

void Sha256Hasher::update(const void* data, std::size_t size)
{
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(m_context), data, size);
}

Sha256 Sha256Hasher::finish()
{
  Sha256 digest{};
  unsigned int length = 0;
  auto* context = static_cast<EVP_MD_CTX*>(m_context);
  EVP_DigestFinal_ex(context, digest.data(), &length);
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  return digest;
}

std::string to_hex(std::span<const std::uint8_t> data)
{
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string text;
  text.reserve(data.size() * 2);
  for (const auto byte : data) {
    text += k_digits[byte >> 4];
    text += k_digits[byte & 0x0f];
  }
  return text;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text)
{
  const auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> bytes;
  bytes.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = digit(text[i]);
    const int low = digit(text[i + 1]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    bytes.push_back(static_cast<std::uint8_t>(high * 16 + low));
  }
  return bytes;
}

std::string base58check_encode(std::span<const std::uint8_t> payload)
{
  std::vector<std::uint8_t> bytes(payload.begin(), payload.end());
  const auto sum = checksum(payload);
  bytes.insert(bytes.end(), sum.begin(), sum.end());
  std::vector<std::uint8_t> digits;  // base-58 digits, least significant first
  for (const auto byte : bytes) {
    unsigned carry = byte;
    for (auto& digit : digits) {
      carry += static_cast<unsigned>(digit) << 8;
      digit = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string text;
  for (auto byte = bytes.begin(); byte != bytes.end() && *byte == 0; ++byte) {
    text += '1';
  }
  for (auto digit = digits.rbegin(); digit != digits.rend(); ++digit) {
    text += k_alphabet[*digit];
  }
  return text;
}

std::optional<std::vector<std::uint8_t>> base58check_decode(std::string_view text)
{
  if (text.empty() || text.size() > 200) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> bytes;  // base-256, least significant first
  for (const char c : text) {
    const auto position = k_alphabet.find(c);
    if (position == std::string_view::npos) {
      return std::nullopt;
    }
    auto carry = static_cast<unsigned>(position);
    for (auto& byte : bytes) {
      carry += static_cast<unsigned>(byte) * 58;
      byte = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  for (auto c = text.begin(); c != text.end() && *c == '1'; ++c) {
    bytes.push_back(0);
  }
  std::reverse(bytes.begin(), bytes.end());
  if (bytes.size() < 5) {
    return std::nullopt;
  }
  const std::vector<std::uint8_t> payload(bytes.begin(), bytes.end() - 4);
  const auto expected = checksum(payload);
  if (!std::equal(expected.begin(), expected.end(), bytes.end() - 4)) {
    return std::nullopt;
  }
  return payload;
}

}  // namespace sconectl
