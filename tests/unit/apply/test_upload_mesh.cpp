// apply::apply_mesh, the whole `apply -f mesh.yaml` as one call, against an in-memory CAS: when it
// connects, what it uploads, and what it refuses before uploading anything.

#include "fake_cas.hpp"
#include "mesh_fixture.hpp"
#include "sconectl/apply/upload_mesh.hpp"

#include <gtest/gtest.h>

namespace sconectl::apply {
namespace {

namespace stdfs = std::filesystem;
using testing::InMemoryCas;

const stdfs::path k_hello =
    stdfs::path(SCONECTL_SOURCE_DIR) / "tests" / "golden" / "mesh" / "hello-world";

class UploadMeshTest : public ::testing::Test {
 protected:
  void SetUp() override
  {
    server.requester = "client-key-hash";
    testing::record_service(k_hello / "services" / "service.yaml", target);
  }

  CasConnector connector()
  {
    return [this]() -> Result<cas::CasConnection> {
      ++connections;
      auto address = cas::parse_cas_address("127.0.0.1:8081");
      if (!address) {
        return forward_error(std::move(address.error()));
      }
      cas::CasConnection connection{
          .address = *address,
          .transport = std::make_unique<testing::BorrowedTransport>(server),
          .own_key_hash = server.requester};
      connection.another_transport = [this]() -> Result<std::unique_ptr<cas::HttpTransport>> {
        return std::make_unique<testing::BorrowedTransport>(server);
      };
      return connection;
    };
  }

  Result<MeshApplyOutcome> apply(bool dry_run = false, MeshUploadOptions upload = {})
  {
    return apply_mesh(
        testing::load_mesh(k_hello / "mesh.yaml"),
        MeshApplyOptions{
            .target_dir = target,
            .new_access_token = [] { return Result<std::string>(std::string(64, '7')); }},
        dry_run,
        upload,
        connector(),
        MeshApplyObserver{
            .warning = [this](const std::string& line) { warnings.push_back(line); }});
  }

  testing::TempDir work;
  stdfs::path target = work.path() / "target";
  InMemoryCas server;
  int connections = 0;
  std::vector<std::string> warnings;
};

TEST_F(UploadMeshTest, ADryRunGeneratesEverythingButNeverConnects)
{
  const auto outcome = apply(/*dry_run=*/true);
  ASSERT_TRUE(outcome) << testing::diagnostics_text(outcome.error());
  EXPECT_EQ(connections, 0);
  EXPECT_FALSE(outcome->uploads);
  EXPECT_EQ(server.posts, 0);
  EXPECT_TRUE(stdfs::exists(target / "helm"));
  EXPECT_EQ(outcome->result.sessions.size(), 2u);
}

TEST_F(UploadMeshTest, AnApplyUploadsEverySessionAndAnUnchangedReapplyUploadsNothing)
{
  const auto first = apply();
  ASSERT_TRUE(first) << testing::diagnostics_text(first.error());
  EXPECT_EQ(connections, 1);
  ASSERT_TRUE(first->uploads);
  ASSERT_EQ(first->uploads->sessions.size(), 2u);
  for (const auto& session : first->uploads->sessions) {
    EXPECT_EQ(session.action, cas::UploadAction::created) << session.name;
    EXPECT_EQ(server.versions.at(session.name).back().hash, session.hash);
  }
  const int posts = server.posts;

  const auto again = apply();
  ASSERT_TRUE(again) << testing::diagnostics_text(again.error());
  EXPECT_EQ(server.posts, posts) << "an unchanged mesh is not uploaded again";
  for (const auto& session : again->uploads->sessions) {
    EXPECT_EQ(session.action, cas::UploadAction::unchanged) << session.name;
  }
}

TEST_F(UploadMeshTest, ASessionChangedElsewhereIsReplacedOnlyWithForceConflicts)
{
  const auto first = apply();
  ASSERT_TRUE(first) << testing::diagnostics_text(first.error());
  // Someone else updates the service's session on the CAS.
  const auto& name = first->uploads->sessions.back().name;
  const auto theirs = server.versions.at(name).back();
  auto edited = theirs.session;
  edited.replace(edited.find("myself"), 6, "mallory");
  server.post(edited + "predecessor: " + theirs.hash + "\n", "someone else");
  const int posts = server.posts;

  const auto refused = apply();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::conflict);
  EXPECT_NE(refused.error().message.find(name + ": recorded " + theirs.hash), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(server.posts, posts) << "nothing is uploaded after a refusal";

  const auto forced = apply(false, MeshUploadOptions{.force_conflicts = true});
  ASSERT_TRUE(forced) << testing::diagnostics_text(forced.error());
  EXPECT_GT(server.posts, posts);
  ASSERT_FALSE(warnings.empty()) << "the replaced change is named before the upload";
}

TEST_F(UploadMeshTest, APlanFileOnAnApplyThatUploadsNothingIsAUsageError)
{
  const auto outcome = apply(/*dry_run=*/true, MeshUploadOptions{.plan_file = "plan.json"});
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, ErrorKind::usage);
  EXPECT_EQ(connections, 0);
  EXPECT_FALSE(stdfs::exists(target / "helm")) << "refused before anything is generated";
}

TEST_F(UploadMeshTest, AnInvalidReleaseNameIsRefusedBeforeConnecting)
{
  const auto outcome =
      apply_mesh(testing::load_mesh(k_hello / "mesh.yaml"),
                 MeshApplyOptions{.target_dir = target, .release = "Not_A_Release"},
                 false,
                 {},
                 connector());
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, ErrorKind::usage);
  EXPECT_NE(outcome.error().message.find("--release 'Not_A_Release'"), std::string::npos);
  EXPECT_EQ(connections, 0);
}

}  // namespace
}  // namespace sconectl::apply
