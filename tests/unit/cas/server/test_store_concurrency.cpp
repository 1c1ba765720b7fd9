// The local CAS's store under concurrency: one writer that groups commits, readers that never
// wait for it.

#include "group_commit.hpp"
#include "reader_pool.hpp"
#include "store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sconectl::cas::server {
namespace {

StoredVersion version_of(const std::string& name, const std::string& user)
{
  StoredVersion version{.name = name, .creator = "creator"};
  version.document = {{"name", name}, {"version", "0.3.10"}, {"user", user}};
  version.hash = model::session_hash(version.document);
  version.yaml = model::to_yaml(version.document);
  return version;
}

class StoreConcurrencyTest : public ::testing::Test {
 protected:
  std::filesystem::path database() const { return m_dir.path() / "cas.db"; }
  std::unique_ptr<Store> writer() const { return std::move(*Store::open(database())); }

  sconectl::testing::TempDir m_dir;
};

TEST_F(StoreConcurrencyTest, WritesFromManyThreadsAreAllDurableAndShareTransactions)
{
  GroupCommit writes(writer());
  constexpr int k_threads = 16;
  constexpr int k_per_thread = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_per_thread; ++i) {
        const auto name = "s-" + std::to_string(t) + "-" + std::to_string(i);
        auto done = writes.run(
            [&](Store& store) { return store.add_version(version_of(name, "u")).has_value(); });
        failures += done ? 0 : 1;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures, 0);
  EXPECT_LT(writes.transactions(), static_cast<std::size_t>(k_threads * k_per_thread))
      << "no two writes shared a transaction";
  // Read back through a fresh connection, as after a restart.
  auto reader = Store::open_reader(database());
  ASSERT_TRUE(reader) << reader.error().message;
  for (int t = 0; t < k_threads; ++t) {
    for (int i = 0; i < k_per_thread; ++i) {
      const auto name = "s-" + std::to_string(t) + "-" + std::to_string(i);
      auto current = (*reader)->current(name);
      ASSERT_TRUE(current && *current) << name << " was acknowledged but is not stored";
    }
  }
}

TEST_F(StoreConcurrencyTest, ARefusedOrThrowingWriteIsUndoneAloneAndTheOthersStay)
{
  GroupCommit writes(writer());
  auto kept = writes.run(
      [](Store& store) { return store.add_version(version_of("kept", "u")).has_value(); });
  ASSERT_TRUE(kept);
  auto refused = writes.run([](Store& store) {
    EXPECT_TRUE(store.add_version(version_of("refused", "u")));
    return false;
  });
  EXPECT_TRUE(refused);
  EXPECT_THROW((void)writes.run([](Store& store) -> bool {
    EXPECT_TRUE(store.add_version(version_of("thrown", "u")));
    throw std::runtime_error("broken");
  }),
               std::runtime_error);
  auto after = writes.run(
      [](Store& store) { return store.add_version(version_of("after", "u")).has_value(); });
  EXPECT_TRUE(after);

  auto reader = std::move(*Store::open_reader(database()));
  EXPECT_TRUE(*reader->current("kept"));
  EXPECT_FALSE(*reader->current("refused"));
  EXPECT_FALSE(*reader->current("thrown"));
  EXPECT_TRUE(*reader->current("after"));
}

TEST_F(StoreConcurrencyTest, AReaderSeesTheLastCommitWhileTheWriterHoldsATransaction)
{
  auto store = writer();
  {
    auto transaction = store->begin();
    ASSERT_TRUE(transaction);
    ASSERT_TRUE(store->add_version(version_of("a", "first")));
    ASSERT_TRUE(transaction->commit());
  }
  auto transaction = store->begin();
  ASSERT_TRUE(transaction);
  auto second = version_of("a", "second");
  ASSERT_TRUE(store->add_version(second));

  ReaderPool readers(database());
  auto snapshot = readers.snapshot();  // would wait for the writer's lock without WAL
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  auto seen = snapshot->store().current("a");
  ASSERT_TRUE(seen && *seen);
  EXPECT_EQ((*seen)->hash, version_of("a", "first").hash);
  ASSERT_TRUE(transaction->commit());
  // The snapshot still sees what it began with; a new one sees the commit.
  EXPECT_EQ((*snapshot->store().current("a"))->hash, version_of("a", "first").hash);
  auto later = readers.snapshot();
  ASSERT_TRUE(later);
  EXPECT_EQ((*later->store().current("a"))->hash, second.hash);
}

// The store keeps recently read versions decoded, by hash: a reader must still see each new
// current version, whole, and older versions stay readable by hash.
TEST_F(StoreConcurrencyTest, AReaderSeesEveryNewCurrentVersionOfASessionItReadBefore)
{
  auto store = writer();
  auto reader = std::move(*Store::open_reader(database()));
  for (int round = 0; round < 50; ++round) {
    auto next = version_of("a", "user-" + std::to_string(round));
    {
      auto transaction = store->begin();
      ASSERT_TRUE(transaction);
      ASSERT_TRUE(store->add_version(next));
      ASSERT_TRUE(store->add_version(version_of("other-" + std::to_string(round), "u")));
      ASSERT_TRUE(transaction->commit());
    }
    for (const auto& name : {std::string("a"), "other-" + std::to_string(round)}) {
      auto seen = reader->current(name);
      ASSERT_TRUE(seen && *seen) << name;
      if (name == "a") {
        EXPECT_EQ((*seen)->hash, next.hash) << round;
        EXPECT_EQ(model::session_hash((*seen)->document), next.hash) << round;
        EXPECT_EQ((*seen)->document.at("user"), "user-" + std::to_string(round));
        EXPECT_EQ((*seen)->yaml, next.yaml) << round;
      }
    }
  }
  const auto first = version_of("a", "user-0");
  auto old = reader->version("a", first.hash);
  ASSERT_TRUE(old && *old);
  EXPECT_EQ((*old)->document.at("user"), "user-0");
  EXPECT_FALSE(*reader->current("never-stored"));
}

TEST_F(StoreConcurrencyTest, AReaderRefusesToWrite)
{
  (void)writer();
  auto reader = std::move(*Store::open_reader(database()));
  auto transaction = reader->begin();
  if (transaction) {
    EXPECT_FALSE(reader->add_version(version_of("a", "u")));
  }
}

}  // namespace
}  // namespace sconectl::cas::server
