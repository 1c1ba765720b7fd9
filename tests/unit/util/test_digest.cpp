#include "sconectl/util/digest.hpp"

#include <gtest/gtest.h>

namespace sconectl {
namespace {

TEST(Sha256Test, MatchesTheStandardTestVector)
{
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Base58CheckTest, EncodesAKnownVector)
{
  // Version byte 0 and the 20-byte payload of a well-known Bitcoin address.
  const std::vector<std::uint8_t> payload{0x00, 0x01, 0x09, 0x66, 0x77, 0x60, 0x06,
                                          0x95, 0x3d, 0x55, 0x67, 0x43, 0x9e, 0x5e,
                                          0x39, 0xf8, 0x6a, 0x0d, 0x27, 0x3b, 0xee};
  EXPECT_EQ(base58check_encode(payload), "16UwLL9Risc3QfPqBUvKofHmBQ7wMtjvM");
}

TEST(Base58CheckTest, RoundTripsAKeyHash)
{
  std::vector<std::uint8_t> payload{0x01};
  const auto digest = sha256("public key");
  payload.insert(payload.end(), digest.begin(), digest.end());
  const auto text = base58check_encode(payload);
  EXPECT_EQ(text.size(), 50U);
  EXPECT_EQ(base58check_decode(text), payload);
}

TEST(Base58CheckTest, RejectsCorruptedText)
{
  std::vector<std::uint8_t> payload{0x01, 0x02, 0x03};
  auto text = base58check_encode(payload);
  text.back() = text.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(base58check_decode(text), std::nullopt);
  EXPECT_EQ(base58check_decode("0OIl"), std::nullopt);  // not in the alphabet
  EXPECT_EQ(base58check_decode(""), std::nullopt);
}

}  // namespace
}  // namespace sconectl

namespace sconectl {
namespace {

TEST(HexTest, FromHexReadsEitherCaseAndRefusesTheRest)
{
  EXPECT_EQ(from_hex("00ff7A"), (std::vector<std::uint8_t>{0x00, 0xff, 0x7a}));
  EXPECT_EQ(from_hex(""), std::vector<std::uint8_t>{});
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("0g"));
  const std::vector<std::uint8_t> bytes{1, 2, 254};
  EXPECT_EQ(from_hex(to_hex(bytes)), bytes);
}

}  // namespace
}  // namespace sconectl
