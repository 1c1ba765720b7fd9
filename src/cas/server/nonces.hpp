#pragma once

// Private to the local CAS: single-use attestation nonces.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace sconectl::cas::server {

// Issues nonces and accepts each once, before it expires. Issuing keeps no state: a nonce is its
// issue time, random bytes and a MAC over both under a key that lives only in this object's
// memory, so no number of nonce requests can crowd out anybody else's. Only nonces that were
// used are remembered, until they expire, so none is accepted twice. That memory is bounded:
// when `used_capacity` used nonces are remembered, the oldest is forgotten and every nonce issued
// no later than it is refused from then on (as if expired), so replay stays impossible and a
// fresh nonce is still accepted.
class NonceStore {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;
  static constexpr std::chrono::seconds k_default_lifetime{60};
  static constexpr std::size_t k_default_used_capacity = 100000;

  explicit NonceStore(std::chrono::seconds lifetime = k_default_lifetime,
                      std::size_t used_capacity = k_default_used_capacity,
                      Now now = Clock::now);
  NonceStore(const NonceStore&) = delete;
  NonceStore& operator=(const NonceStore&) = delete;
  ~NonceStore();

  // std::nullopt only when the system has no randomness to give.
  [[nodiscard]] std::optional<std::string> issue();
  // True once per issued nonce, within its lifetime; false for anything else (forged, malformed,
  // expired, used, or issued before the oldest used nonce that had to be forgotten).
  [[nodiscard]] bool consume(const std::string& nonce);
  [[nodiscard]] std::chrono::seconds lifetime() const { return m_lifetime; }

 private:
  using Issued = std::pair<std::uint64_t, std::uint64_t>;  // issue time (ms), random

  std::array<std::uint8_t, 16> mac(std::uint64_t issued, std::uint64_t random) const;
  std::uint64_t now_ms() const;

  std::chrono::seconds m_lifetime;
  std::size_t m_used_capacity;
  Now m_now;
  std::array<std::uint8_t, 32> m_key{};
  std::mutex m_mutex;
  std::set<Issued> m_used;               // ordered by issue time, so the oldest go first
  std::optional<std::uint64_t> m_floor;  // nonces issued at or before this time are refused
};

}  // namespace sconectl::cas::server
