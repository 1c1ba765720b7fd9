#pragma once

// Private to the local CAS: the durable session store (SQLite).

#include "sconectl/model/session.hpp"
#include "sconectl/util/error.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

struct sqlite3;

namespace sconectl::cas::server {

// One version of a session as stored: the document includes `creator` and, for updates,
// `predecessor`; `hash` is model::session_hash(document) and `yaml` model::to_yaml(document).
struct StoredVersion {
  std::string name;
  std::string hash;
  std::optional<std::string> predecessor;
  std::string creator;
  model::SessionDocument document;
  std::string yaml;
};

// A value the CAS generated for a secret of the current version of a session.
struct StoredSecret {
  std::string kind;         // as in the session ("ascii", "x509-ca", ...)
  std::string value;        // ascii text, raw binary bytes, or PEM
  std::string private_key;  // certificates: PEM key the certificate was issued for; else empty
};
using SecretValues = std::map<std::string, StoredSecret>;

// Sessions, their whole history, and the generated secrets of their current versions. One
// connection, not thread-safe: the local CAS has one writer (GroupCommit) and a pool of readers
// (ReaderPool), which WAL lets read while the writer writes. Writes happen only inside a
// Transaction (BEGIN IMMEDIATE), which commits with synchronous=FULL, so a committed upload
// survives a crash.
class Store {
 public:
  // The writer: creates the database and its schema when they are missing.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& database);
  // A reader of a database that open() made; it refuses to write.
  static Result<std::unique_ptr<Store>> open_reader(const std::filesystem::path& database);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();

  struct StatementCache;  // in store.cpp

  [[nodiscard]] Result<std::optional<StoredVersion>> current(const std::string& name);
  // A version of session `name` by hash; std::nullopt when `hash` is not a version of `name`.
  [[nodiscard]] Result<std::optional<StoredVersion>> version(const std::string& name,
                                                             const std::string& hash);
  [[nodiscard]] Result<SecretValues> secrets(const std::string& session);

  // The current hash of each session read through current() or secrets() since
  // record_reads(), std::nullopt for one that did not exist: what a decision made on a snapshot
  // depends on. Older versions are not listed; they never change.
  using ReadSet = std::map<std::string, std::optional<std::string>>;
  void record_reads() { m_recording.emplace(); }
  [[nodiscard]] ReadSet take_reads();
  // Whether every session of `reads` still has the hash it had (a writer's check that a write
  // prepared on a snapshot is still the one it would make now).
  [[nodiscard]] Result<bool> unchanged_since(const ReadSet& reads);

  // Rolls back on destruction unless commit() succeeded.
  class Transaction {
   public:
    explicit Transaction(Store& store) : m_store(&store) {}
    Transaction(Transaction&& other) noexcept : m_store(other.m_store) { other.m_store = nullptr; }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    [[nodiscard]] Result<void> commit();

   private:
    Store* m_store;
  };
  [[nodiscard]] Result<Transaction> begin();
  // A read transaction: the reads in it see one snapshot, the last commit before its first read.
  [[nodiscard]] Result<Transaction> begin_read();

  // Inside a transaction, a part that can be undone alone: rolled back to on destruction unless
  // release() succeeded.
  class Savepoint {
   public:
    explicit Savepoint(Store& store) : m_store(&store) {}
    Savepoint(Savepoint&& other) noexcept : m_store(other.m_store) { other.m_store = nullptr; }
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    Savepoint& operator=(Savepoint&&) = delete;
    ~Savepoint();
    [[nodiscard]] Result<void> release();

   private:
    Store* m_store;
  };
  [[nodiscard]] Result<Savepoint> savepoint();
  // False once a transaction ended, also when SQLite rolled it back by itself after an error.
  [[nodiscard]] bool in_transaction() const;

  // Inside a transaction: appends `version` to the history and makes it the current one.
  [[nodiscard]] Result<void> add_version(const StoredVersion& version);
  // Inside a transaction: the generated secrets of `session` become exactly `values`.
  [[nodiscard]] Result<void> replace_secrets(const std::string& session,
                                             const SecretValues& values);

 private:
  explicit Store(sqlite3* database);
  // Any SQL, not kept prepared: set-up.
  Result<void> execute(const char* sql);
  // One statement without results, kept prepared (transactions and savepoints).
  Result<void> run(const char* sql);
  Result<std::optional<StoredVersion>> read_version(const char* sql,
                                                    const std::string& name,
                                                    const std::optional<std::string>& hash);

  Result<std::optional<std::string>> current_hash(const std::string& name);
  void note_read(const std::string& name, const std::optional<std::string>& hash);

  sqlite3* m_database;
  std::unique_ptr<StatementCache> m_statements;
  std::optional<ReadSet> m_recording;
  // Versions current() read lately, by hash; at most k_recent_versions, then forgotten at once.
  static constexpr std::size_t k_recent_versions = 32;
  std::unordered_map<std::string, std::shared_ptr<const StoredVersion>> m_recent_versions;
};

}  // namespace sconectl::cas::server
