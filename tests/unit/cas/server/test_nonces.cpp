// Attestation nonces: issued without state, accepted once, refused when forged or expired.
#include "nonces.hpp"
#include "sconectl/util/digest.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sconectl::cas::server {
namespace {

using namespace std::chrono_literals;

class ManualClock {
 public:
  NonceStore::Now function()
  {
    return [this] { return m_now; };
  }
  void advance(std::chrono::milliseconds by) { m_now += by; }

 private:
  NonceStore::Clock::time_point m_now = NonceStore::Clock::time_point(1000h);
};

TEST(NonceTest, ANonceIsAcceptedOnceWithinItsLifetime)
{
  ManualClock clock;
  NonceStore nonces(60s, 1000, clock.function());
  const auto nonce = nonces.issue();
  ASSERT_TRUE(nonce);
  EXPECT_EQ(nonce->size(), 64U);
  EXPECT_TRUE(from_hex(*nonce));
  clock.advance(59s);
  EXPECT_TRUE(nonces.consume(*nonce));
  EXPECT_FALSE(nonces.consume(*nonce)) << "a used nonce must not be accepted again";
  clock.advance(30s);
  EXPECT_FALSE(nonces.consume(*nonce)) << "nor after it expired and was forgotten";
}

TEST(NonceTest, AnExpiredNonceIsRefused)
{
  ManualClock clock;
  NonceStore nonces(60s, 1000, clock.function());
  const auto nonce = nonces.issue();
  ASSERT_TRUE(nonce);
  clock.advance(60s);
  EXPECT_FALSE(nonces.consume(*nonce));
}

// Each change of a nonce, and a nonce of another CAS (another key), is refused: the MAC covers
// the issue time and the random bytes.
TEST(NonceTest, ForgedAndMalformedNoncesAreRefused)
{
  ManualClock clock;
  NonceStore nonces(60s, 1000, clock.function());
  NonceStore other(60s, 1000, clock.function());
  const auto nonce = *nonces.issue();
  for (std::size_t i = 0; i < nonce.size(); ++i) {
    auto changed = nonce;
    changed[i] = changed[i] == '0' ? '1' : '0';
    EXPECT_FALSE(nonces.consume(changed)) << "digit " << i;
  }
  // An issue time moved into the past keeps a fresh nonce alive only with a valid MAC.
  auto backdated = nonce;
  backdated.replace(0, 16, std::string(16, '0'));
  EXPECT_FALSE(nonces.consume(backdated));
  EXPECT_FALSE(nonces.consume(*other.issue()));
  for (const std::string& garbage : {std::string(),
                                     std::string(64, 'z'),
                                     std::string(63, '0'),
                                     std::string(66, '0'),
                                     nonce + "00",
                                     nonce.substr(2)}) {
    EXPECT_FALSE(nonces.consume(garbage)) << garbage;
  }
  EXPECT_TRUE(nonces.consume(nonce)) << "the refusals did not use up the real nonce";
}

// Issuing keeps nothing, so a flood of requests for nonces leaves everybody else's valid.
TEST(NonceTest, AFloodOfIssuedNoncesLocksNobodyOut)
{
  ManualClock clock;
  NonceStore nonces(60s, 1000, clock.function());
  const auto honest = *nonces.issue();
  std::set<std::string> flood;
  for (int i = 0; i < 20000; ++i) {
    flood.insert(*nonces.issue());
  }
  EXPECT_EQ(flood.size(), 20000U);
  EXPECT_TRUE(nonces.consume(honest));
  EXPECT_TRUE(nonces.consume(*nonces.issue()));
}

// When more used nonces are remembered than the store holds, the oldest is forgotten, and every
// nonce issued no later than it is refused from then on: no replay, and a fresh nonce still works.
TEST(NonceTest, ForgettingTheOldestUsedNonceRefusesEverythingIssuedBeforeIt)
{
  ManualClock clock;
  NonceStore nonces(60s, 3, clock.function());
  std::vector<std::string> issued;
  for (int i = 0; i < 6; ++i) {
    issued.push_back(*nonces.issue());
    clock.advance(1ms);
  }
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_TRUE(nonces.consume(issued[i])) << i;
  }
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_FALSE(nonces.consume(issued[i])) << "replay of " << i;
  }
  EXPECT_FALSE(nonces.consume(issued[0])) << "issued before the oldest one forgotten";
  EXPECT_TRUE(nonces.consume(issued[5]));
  EXPECT_TRUE(nonces.consume(*nonces.issue()));
}

}  // namespace
}  // namespace sconectl::cas::server
