#pragma once

// Private to the local CAS: single-use attestation nonces, kept in memory.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sconectl::cas::server {

// Issues nonces and accepts each once, before it expires. Bounded: when `capacity` unexpired
// nonces are outstanding, issue() gives none (the caller answers 503) instead of growing.
class NonceStore {
 public:
  using Clock = std::chrono::steady_clock;
  explicit NonceStore(std::chrono::seconds lifetime = std::chrono::seconds(60),
                      std::size_t capacity = 10000)
      : m_lifetime(lifetime), m_capacity(capacity)
  {
  }

  [[nodiscard]] std::optional<std::string> issue();
  // True once per issued nonce, within its lifetime; false for anything else.
  [[nodiscard]] bool consume(const std::string& nonce);
  [[nodiscard]] std::chrono::seconds lifetime() const { return m_lifetime; }

 private:
  void drop_expired(Clock::time_point now);

  std::chrono::seconds m_lifetime;
  std::size_t m_capacity;
  std::mutex m_mutex;
  std::map<std::string, Clock::time_point> m_expiry;
};

}  // namespace sconectl::cas::server
