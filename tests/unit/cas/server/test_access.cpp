#include "access.hpp"
#include "cas_fixture.hpp"

namespace sconectl::cas::testing {
namespace {

using server::check_access_policy;
using server::is_permitted;
using server::Operation;
using Json = model::SessionDocument;

Json stored(const std::string& creator, const Json& access_policy)
{
  Json session = {{"name", "demo"}, {"creator", creator}};
  if (!access_policy.is_null()) {
    session["access_policy"] = access_policy;
  }
  return session;
}

TEST(AccessTest, DefaultsAdmitOnlyTheCreator)
{
  const auto alice = new_client().key_hash;
  const auto bob = new_client().key_hash;
  const auto session = stored(alice, nullptr);
  for (const auto operation : {Operation::read, Operation::update, Operation::create_sessions}) {
    EXPECT_TRUE(is_permitted(session, operation, alice));
    EXPECT_FALSE(is_permitted(session, operation, bob));
  }
}

TEST(AccessTest, CreateSessionsFollowsTheUpdateList)
{
  const auto alice = new_client().key_hash;
  const auto bob = new_client().key_hash;
  const auto session = stored(alice, {{"update", {bob}}});
  EXPECT_TRUE(is_permitted(session, Operation::create_sessions, bob));
  EXPECT_FALSE(is_permitted(session, Operation::create_sessions, alice));
  EXPECT_TRUE(is_permitted(session, Operation::read, alice));  // read keeps its default
}

TEST(AccessTest, AnyAdmitsEveryoneNoneNobody)
{
  const auto alice = new_client().key_hash;
  const auto session = stored(alice, {{"read", {"ANY"}}, {"update", {"NONE"}}});
  EXPECT_TRUE(is_permitted(session, Operation::read, new_client().key_hash));
  EXPECT_FALSE(is_permitted(session, Operation::update, alice));
  EXPECT_FALSE(is_permitted(stored(alice, {{"update", Json::array()}}), Operation::update, alice));
}

TEST(AccessTest, ChecksEveryEntry)
{
  EXPECT_TRUE(check_access_policy(stored("", nullptr)).empty());
  EXPECT_TRUE(
      check_access_policy(stored("", {{"read", {"CREATOR", new_client().key_hash}}})).empty());
  const auto problems =
      check_access_policy(stored("",
                                 {{"read", {"NONE", "CREATOR"}},
                                  {"update", {"$$SCONE::owner$$", {{"signer", "x"}}, "nobody"}},
                                  {"delete", {"ANY"}},
                                  {"create_sessions", "CREATOR"}}));
  ASSERT_EQ(problems.size(), 6U);
  EXPECT_EQ(problems[0], "access_policy.read: ANY and NONE must be the only entry of their list");
  EXPECT_EQ(problems[1],
            "access_policy.update[0]: names secret 'owner', which this session neither defines "
            "nor imports");
  EXPECT_EQ(problems[2],
            "access_policy.update[1]: only CREATOR, ANY, NONE, key hashes, PEM certificates and "
            "$$SCONE::<certificate secret>$$ are supported by this CAS (not signers or governance "
            "rules)");
  EXPECT_EQ(problems[3],
            "access_policy.update[2]: 'nobody' is not CREATOR, ANY, NONE, a PEM certificate, "
            "$$SCONE::<certificate secret>$$ or a key hash: a key hash has 50 characters, this "
            "one 6");
  EXPECT_EQ(problems[4],
            "access_policy.delete: unknown operation; expected read, update, create_sessions or "
            "list_sessions");
  EXPECT_EQ(problems[5], "access_policy.create_sessions: expected a list");
  EXPECT_EQ(check_access_policy(Json{{"access_policy", "ANY"}}).size(), 1U);
}

TEST(AccessTest, AConfigFragmentPolicyIsResolvedAtEveryCheck)
{
  const auto alice = new_client().key_hash;
  const auto bob = new_client().key_hash;
  const auto session = stored(alice, "$$SCONE::shared$$");
  server::StoredSecret fragment{.kind = "config-fragment",
                                .value = Json{{"read", {bob}}, {"update", {"NONE"}}}.dump()};
  const server::SecretText secrets = [&fragment](const std::string& name) {
    return name == "shared" ? std::optional<server::StoredSecret>(fragment) : std::nullopt;
  };
  EXPECT_TRUE(is_permitted(session, Operation::read, bob, secrets));
  EXPECT_FALSE(is_permitted(session, Operation::read, alice, secrets));
  EXPECT_FALSE(is_permitted(session, Operation::update, alice, secrets));
  EXPECT_FALSE(is_permitted(session, Operation::create_sessions, alice, secrets));
  fragment.value = Json{{"read", {"CREATOR"}}}.dump();  // the source changed
  EXPECT_FALSE(is_permitted(session, Operation::read, bob, secrets));
  EXPECT_TRUE(is_permitted(session, Operation::read, alice, secrets));
  EXPECT_TRUE(is_permitted(session, Operation::update, alice, secrets));  // its default
  // What cannot be resolved admits nobody: no secrets, another kind, a value that is no mapping.
  EXPECT_FALSE(is_permitted(session, Operation::read, alice));
  fragment.kind = "ascii";
  EXPECT_FALSE(is_permitted(session, Operation::read, alice, secrets));
  fragment.kind = "config-fragment";
  fragment.value = "[\"CREATOR\"]";
  EXPECT_FALSE(is_permitted(session, Operation::read, alice, secrets));
  EXPECT_FALSE(is_permitted(stored(alice, "$$SCONE::other$$"), Operation::read, alice, secrets));
}

}  // namespace
}  // namespace sconectl::cas::testing
