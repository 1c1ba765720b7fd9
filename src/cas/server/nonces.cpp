#include "nonces.hpp"

#include "sconectl/util/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace sconectl::cas::server {

namespace {

// A nonce is 32 bytes (64 hex digits, as the protocol has it): the issue time in milliseconds of
// the server's steady clock, 8 random bytes, both big-endian, and the first 16 bytes of their
// HMAC-SHA-256.
constexpr std::size_t k_nonce_bytes = 32;

void put_u64(std::uint8_t* out, std::uint64_t value)
{
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(value & 0xffU);
    value >>= 8U;
  }
}

std::uint64_t get_u64(const std::uint8_t* in)
{
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8U) | in[i];
  }
  return value;
}

}  // namespace

NonceStore::NonceStore(std::chrono::seconds lifetime, std::size_t used_capacity, Now now)
    : m_lifetime(lifetime),
      m_used_capacity(used_capacity == 0 ? 1 : used_capacity),
      m_now(std::move(now))
{
  if (RAND_bytes(m_key.data(), static_cast<int>(m_key.size())) != 1) {
    throw std::runtime_error("no randomness for the attestation nonce key");
  }
}

NonceStore::~NonceStore()
{
  OPENSSL_cleanse(m_key.data(), m_key.size());
}

std::uint64_t NonceStore::now_ms() const
{
  const auto since =
      std::chrono::duration_cast<std::chrono::milliseconds>(m_now().time_since_epoch());
  return static_cast<std::uint64_t>(since.count());
}

std::array<std::uint8_t, 16> NonceStore::mac(std::uint64_t issued, std::uint64_t random) const
{
  std::array<std::uint8_t, 16> message{};
  put_u64(message.data(), issued);
  put_u64(message.data() + 8, random);
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> full{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(),
           m_key.data(),
           static_cast<int>(m_key.size()),
           message.data(),
           message.size(),
           full.data(),
           &length)
          == nullptr
      || length < 16) {
    throw std::runtime_error("HMAC-SHA-256 failed");
  }
  std::array<std::uint8_t, 16> truncated{};
  std::copy_n(full.begin(), truncated.size(), truncated.begin());
  return truncated;
}

std::optional<std::string> NonceStore::issue()
{
  std::array<std::uint8_t, 8> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return std::nullopt;
  }
  std::array<std::uint8_t, k_nonce_bytes> nonce{};
  const auto issued = now_ms();
  put_u64(nonce.data(), issued);
  std::copy(random.begin(), random.end(), nonce.begin() + 8);
  const auto tag = mac(issued, get_u64(random.data()));
  std::copy(tag.begin(), tag.end(), nonce.begin() + 16);
  return to_hex(nonce);
}

bool NonceStore::consume(const std::string& nonce)
{
  const auto bytes = from_hex(nonce);
  if (!bytes || bytes->size() != k_nonce_bytes) {
    return false;
  }
  const auto issued = get_u64(bytes->data());
  const auto random = get_u64(bytes->data() + 8);
  const auto expected = mac(issued, random);
  if (CRYPTO_memcmp(expected.data(), bytes->data() + 16, expected.size()) != 0) {
    return false;
  }
  const auto now = now_ms();
  const auto lifetime_ms = static_cast<std::uint64_t>(m_lifetime.count()) * 1000U;
  if (issued > now || now - issued >= lifetime_ms) {
    return false;
  }
  std::lock_guard lock(m_mutex);
  while (!m_used.empty() && now - m_used.begin()->first >= lifetime_ms) {
    m_used.erase(m_used.begin());  // expired: refused by its time from now on
  }
  if (m_floor && issued <= *m_floor) {
    return false;
  }
  if (!m_used.emplace(issued, random).second) {
    return false;
  }
  while (m_used.size() > m_used_capacity) {
    m_floor = std::max(m_floor.value_or(0), m_used.begin()->first);
    m_used.erase(m_used.begin());
  }
  return true;
}

}  // namespace sconectl::cas::server
