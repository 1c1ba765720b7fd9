#include "sconectl/cas/client.hpp"
#include "sconectl/model/session.hpp"

#include <gtest/gtest.h>

namespace sconectl::cas {
namespace {

// What an honest CAS answers for a version of `name`.
SessionRecord honest_record(const std::string& name,
                            const std::optional<std::string>& predecessor,
                            const std::string& api_user)
{
  model::SessionDocument document = {{"version", "0.3.10"},
                                     {"name", name},
                                     {"creator", "client-key"},
                                     {"services", {{{"name", "app"}}}},
                                     {"env", api_user}};
  if (predecessor) {
    document["predecessor"] = *predecessor;
  }
  return {.name = name,
          .hash = model::session_hash(document),
          .predecessor = predecessor,
          .creator = "client-key",
          .session = model::to_yaml(document)};
}

std::string message_of(const Result<void>& result)
{
  return result ? std::string() : result.error().message;
}

TEST(VerifySessionRecord, AcceptsWhatAnHonestCasReturns)
{
  const auto first = honest_record("ns/app", std::nullopt, "alice");
  const auto second = honest_record("ns/app", first.hash, "bob");
  EXPECT_TRUE(verify_session_record(first, "ns/app", std::nullopt));
  EXPECT_TRUE(verify_session_record(first, "ns/app", first.hash));
  EXPECT_TRUE(verify_session_record(second, "ns/app", second.hash));
}

TEST(VerifySessionRecord, RefusesAnotherVersionThanTheOneAskedFor)
{
  const auto first = honest_record("ns/app", std::nullopt, "alice");
  const auto other = honest_record("ns/app", std::nullopt, "mallory");
  EXPECT_NE(message_of(verify_session_record(other, "ns/app", first.hash)).find("another version"),
            std::string::npos);
}

TEST(VerifySessionRecord, RefusesContentThatDoesNotHashToTheNamedHash)
{
  auto record = honest_record("ns/app", std::nullopt, "alice");
  record.hash = honest_record("ns/app", std::nullopt, "bob").hash;
  EXPECT_NE(message_of(verify_session_record(record, "ns/app", std::nullopt)).find("hashes to"),
            std::string::npos);
}

// The chain must be walked through hashed content: a predecessor only claimed in the answer
// would let a CAS splice one history onto another.
TEST(VerifySessionRecord, RefusesAPredecessorThatTheContentDoesNotName)
{
  auto record = honest_record("ns/app", std::nullopt, "alice");
  record.predecessor = honest_record("ns/app", std::nullopt, "older").hash;
  EXPECT_NE(message_of(verify_session_record(record, "ns/app", std::nullopt)).find("predecessor"),
            std::string::npos);
}

TEST(VerifySessionRecord, RefusesAnotherSessionsContentAndAnotherCreator)
{
  const auto elsewhere = honest_record("ns/other", std::nullopt, "alice");
  EXPECT_NE(message_of(verify_session_record(elsewhere, "ns/app", std::nullopt)).find("ns/other"),
            std::string::npos);
  auto record = honest_record("ns/app", std::nullopt, "alice");
  record.creator = "someone-else";
  EXPECT_NE(message_of(verify_session_record(record, "ns/app", std::nullopt)).find("creator"),
            std::string::npos);
}

}  // namespace
}  // namespace sconectl::cas
