#include "nonces.hpp"

#include "sconectl/util/digest.hpp"

#include <openssl/rand.h>

#include <array>

namespace sconectl::cas::server {

void NonceStore::drop_expired(Clock::time_point now)
{
  std::erase_if(m_expiry, [now](const auto& entry) { return entry.second <= now; });
}

std::optional<std::string> NonceStore::issue()
{
  std::array<std::uint8_t, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return std::nullopt;
  }
  const auto now = Clock::now();
  std::lock_guard lock(m_mutex);
  if (m_expiry.size() >= m_capacity) {
    drop_expired(now);
    if (m_expiry.size() >= m_capacity) {
      return std::nullopt;
    }
  }
  auto nonce = to_hex(random);
  m_expiry[nonce] = now + m_lifetime;
  return nonce;
}

bool NonceStore::consume(const std::string& nonce)
{
  std::lock_guard lock(m_mutex);
  const auto found = m_expiry.find(nonce);
  if (found == m_expiry.end()) {
    return false;
  }
  const bool fresh = found->second > Clock::now();
  m_expiry.erase(found);
  return fresh;
}

}  // namespace sconectl::cas::server
