#include "store.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sconectl::cas::server {

namespace {

constexpr int k_busy_timeout_ms = 5000;
constexpr int k_schema_version = 1;

constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS versions(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  predecessor TEXT,
  creator TEXT NOT NULL,
  document TEXT NOT NULL,
  yaml TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS versions_by_name ON versions(name);
CREATE TABLE IF NOT EXISTS current(
  name TEXT PRIMARY KEY,
  hash TEXT NOT NULL REFERENCES versions(hash));
CREATE TABLE IF NOT EXISTS secrets(
  session TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  value BLOB NOT NULL,
  private_key BLOB NOT NULL,
  PRIMARY KEY(session, name));
)sql";

constexpr const char* k_select_version =
    "SELECT name, hash, predecessor, creator, document, yaml FROM versions";

tl::unexpected<Error> database_failure(sqlite3* database, const std::string& what)
{
  return fail(ErrorKind::internal,
              "session store: " + what + ": "
                  + (database != nullptr ? sqlite3_errmsg(database) : "out of memory"));
}

}  // namespace

// Prepared statements kept for reuse, by SQL text: preparing one costs more than running the
// short queries of the store.
struct Store::StatementCache {
  StatementCache() = default;
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;
  ~StatementCache()
  {
    for (auto& [sql, statements] : idle) {
      for (sqlite3_stmt* statement : statements) {
        sqlite3_finalize(statement);
      }
    }
  }
  std::unordered_map<std::string_view, std::vector<sqlite3_stmt*>> idle;
};

namespace {

// A prepared statement taken from the store's cache (or prepared when none is idle), and reset
// and given back on destruction: a statement left stepping would hold its read snapshot open.
class Statement {
 public:
  Statement(sqlite3* database, Store::StatementCache& cache, const char* sql)
      : m_cache(&cache), m_sql(sql)
  {
    auto& idle = cache.idle[m_sql];
    if (!idle.empty()) {
      m_statement = idle.back();
      idle.pop_back();
    } else if (sqlite3_prepare_v3(
                   database, sql, -1, SQLITE_PREPARE_PERSISTENT, &m_statement, nullptr)
               != SQLITE_OK) {
      sqlite3_finalize(m_statement);
      m_statement = nullptr;
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement()
  {
    if (m_statement != nullptr) {
      sqlite3_reset(m_statement);
      sqlite3_clear_bindings(m_statement);
      m_cache->idle[m_sql].push_back(m_statement);
    }
  }

  [[nodiscard]] bool valid() const { return m_statement != nullptr; }

  bool bind(int index, const std::string& text)
  {
    return sqlite3_bind_blob64(m_statement, index, text.data(), text.size(), SQLITE_TRANSIENT)
           == SQLITE_OK;
  }
  bool bind_text(int index, const std::string& text)
  {
    return sqlite3_bind_text64(
               m_statement, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8)
           == SQLITE_OK;
  }
  bool bind_text(int index, const std::optional<std::string>& text)
  {
    return text ? bind_text(index, *text) : sqlite3_bind_null(m_statement, index) == SQLITE_OK;
  }
  bool bind_integer(int index, std::int64_t value)
  {
    return sqlite3_bind_int64(m_statement, index, value) == SQLITE_OK;
  }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(m_statement); }

  [[nodiscard]] std::optional<std::string> column(int index) const
  {
    if (sqlite3_column_type(m_statement, index) == SQLITE_NULL) {
      return std::nullopt;
    }
    const auto* data = static_cast<const char*>(sqlite3_column_blob(m_statement, index));
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(m_statement, index));
    return data == nullptr ? std::string() : std::string(data, size);
  }

 private:
  Store::StatementCache* m_cache;
  std::string_view m_sql;  // the key of m_cache: the SQL texts are literals or static
  sqlite3_stmt* m_statement = nullptr;
};

// The database holds secret values: create it readable by the owner only, before SQLite does.
Result<void> create_private_file(const std::filesystem::path& path)
{
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    const int error_number = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    return fail(ErrorKind::io,
                "cannot create " + path.string() + ": " + std::strerror(error_number));
  }
  ::close(fd);
  return {};
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& database)
{
  TRY(create_private_file(database));
  sqlite3* handle = nullptr;
  const int opened = sqlite3_open_v2(
      database.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<Store> store(new Store(handle));
  if (opened != SQLITE_OK) {
    return database_failure(handle, "cannot open " + database.string());
  }
  sqlite3_busy_timeout(handle, k_busy_timeout_ms);
  for (const char* setup :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", k_schema}) {
    TRY(store->execute(setup));
  }
  const auto pragma = "PRAGMA user_version=" + std::to_string(k_schema_version);
  TRY(store->execute(pragma.c_str()));
  return store;
}

Result<std::unique_ptr<Store>> Store::open_reader(const std::filesystem::path& database)
{
  sqlite3* handle = nullptr;
  // Read-write at the file level: a WAL reader updates the shared-memory index.
  const int opened = sqlite3_open_v2(database.c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<Store> store(new Store(handle));
  if (opened != SQLITE_OK) {
    return database_failure(handle, "cannot open " + database.string());
  }
  sqlite3_busy_timeout(handle, k_busy_timeout_ms);
  TRY(store->execute("PRAGMA query_only=ON"));
  return store;
}

Store::Store(sqlite3* database)
    : m_database(database), m_statements(std::make_unique<StatementCache>())
{
}

Store::~Store()
{
  m_statements.reset();  // sqlite3_close refuses to close with statements still prepared
  sqlite3_close(m_database);
}

Result<void> Store::run(const char* sql)
{
  Statement statement(m_database, *m_statements, sql);
  if (!statement.valid() || statement.step() != SQLITE_DONE) {
    return fail(ErrorKind::internal, std::string("session store: ") + sqlite3_errmsg(m_database));
  }
  return {};
}

Result<void> Store::execute(const char* sql)
{
  char* message = nullptr;
  if (sqlite3_exec(m_database, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return fail(ErrorKind::internal, "session store: " + text);
  }
  return {};
}

Result<std::optional<StoredVersion>> Store::read_version(const char* sql,
                                                         const std::string& name,
                                                         const std::optional<std::string>& hash)
{
  Statement statement(m_database, *m_statements, sql);
  if (!statement.valid() || !statement.bind_text(1, name)
      || (hash && !statement.bind_text(2, *hash))) {
    return database_failure(m_database, "reading a session");
  }
  const int result = statement.step();
  if (result == SQLITE_DONE) {
    return std::optional<StoredVersion>();
  }
  if (result != SQLITE_ROW) {
    return database_failure(m_database, "reading a session");
  }
  StoredVersion version;
  version.name = statement.column(0).value_or("");
  version.hash = statement.column(1).value_or("");
  version.predecessor = statement.column(2);
  version.creator = statement.column(3).value_or("");
  version.document =
      model::SessionDocument::parse(statement.column(4).value_or(""), nullptr, false);
  version.yaml = statement.column(5).value_or("");
  if (version.document.is_discarded()) {
    return fail(ErrorKind::internal, "session store: version " + version.hash + " is corrupt");
  }
  return std::optional<StoredVersion>(std::move(version));
}

Result<std::optional<StoredVersion>> Store::current(const std::string& name)
{
  auto hash = current_hash(name);
  if (!hash) {
    return forward_error(std::move(hash.error()));
  }
  if (m_recording) {
    note_read(name, *hash);
  }
  if (!*hash) {
    return std::optional<StoredVersion>();
  }
  // A version never changes once stored, so its hash names it for good. Uploads into one
  // namespace all read the namespace's session and those they import from: kept decoded here.
  if (const auto cached = m_recent_versions.find(**hash); cached != m_recent_versions.end()) {
    return std::optional<StoredVersion>(*cached->second);
  }
  auto version = this->version(name, **hash);
  if (version && *version) {
    if (m_recent_versions.size() >= k_recent_versions) {
      m_recent_versions.clear();
    }
    m_recent_versions.emplace(**hash, std::make_shared<const StoredVersion>(**version));
  }
  return version;
}

Result<std::optional<std::string>> Store::current_hash(const std::string& name)
{
  Statement statement(m_database, *m_statements, "SELECT hash FROM current WHERE name = ?1");
  if (!statement.valid() || !statement.bind_text(1, name)) {
    return database_failure(m_database, "reading a session");
  }
  const int result = statement.step();
  if (result == SQLITE_DONE) {
    return std::optional<std::string>();
  }
  if (result != SQLITE_ROW) {
    return database_failure(m_database, "reading a session");
  }
  return statement.column(0);
}

void Store::note_read(const std::string& name, const std::optional<std::string>& hash)
{
  m_recording->emplace(name, hash);
}

Store::ReadSet Store::take_reads()
{
  auto reads = m_recording.value_or(ReadSet());
  m_recording.reset();
  return reads;
}

Result<bool> Store::unchanged_since(const ReadSet& reads)
{
  for (const auto& [name, hash] : reads) {
    auto now = current_hash(name);
    if (!now) {
      return forward_error(std::move(now.error()));
    }
    if (*now != hash) {
      return false;
    }
  }
  return true;
}

Result<std::optional<StoredVersion>> Store::version(const std::string& name,
                                                    const std::string& hash)
{
  static const std::string sql = std::string(k_select_version) + " WHERE name = ?1 AND hash = ?2";
  return read_version(sql.c_str(), name, hash);
}

Result<SecretValues> Store::secrets(const std::string& session)
{
  // Secrets change only with the session's version, so its hash stands for them.
  if (m_recording && !m_recording->contains(session)) {
    auto hash = current_hash(session);
    if (!hash) {
      return forward_error(std::move(hash.error()));
    }
    note_read(session, *hash);
  }
  Statement statement(m_database,
                      *m_statements,
                      "SELECT name, kind, value, private_key FROM secrets WHERE session = ?1");
  if (!statement.valid() || !statement.bind_text(1, session)) {
    return database_failure(m_database, "reading secrets");
  }
  SecretValues values;
  int result = SQLITE_ROW;
  while ((result = statement.step()) == SQLITE_ROW) {
    values[statement.column(0).value_or("")] =
        StoredSecret{.kind = statement.column(1).value_or(""),
                     .value = statement.column(2).value_or(""),
                     .private_key = statement.column(3).value_or("")};
  }
  if (result != SQLITE_DONE) {
    return database_failure(m_database, "reading secrets");
  }
  return values;
}

Result<Store::Transaction> Store::begin()
{
  TRY(run("BEGIN IMMEDIATE"));
  return Transaction(*this);
}

Result<Store::Transaction> Store::begin_read()
{
  TRY(run("BEGIN DEFERRED"));
  return Transaction(*this);
}

Result<Store::Savepoint> Store::savepoint()
{
  TRY(run("SAVEPOINT part"));
  return Savepoint(*this);
}

bool Store::in_transaction() const
{
  return sqlite3_get_autocommit(m_database) == 0;
}

Store::Savepoint::~Savepoint()
{
  if (m_store != nullptr) {
    (void)m_store->run("ROLLBACK TO part");
    (void)m_store->run("RELEASE part");
  }
}

Result<void> Store::Savepoint::release()
{
  if (m_store == nullptr) {
    return fail(ErrorKind::internal, "session store: the savepoint is already finished");
  }
  auto released = m_store->run("RELEASE part");
  if (released) {
    m_store = nullptr;
  }
  return released;
}

Store::Transaction::~Transaction()
{
  if (m_store != nullptr) {
    (void)m_store->run("ROLLBACK");
  }
}

Result<void> Store::Transaction::commit()
{
  if (m_store == nullptr) {
    return fail(ErrorKind::internal, "session store: the transaction is already finished");
  }
  auto committed = m_store->run("COMMIT");
  if (committed) {
    m_store = nullptr;
  }
  return committed;
}

Result<void> Store::add_version(const StoredVersion& version)
{
  Statement insert(m_database,
                   *m_statements,
                   "INSERT INTO versions(name, hash, predecessor, creator, document, yaml, "
                   "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  const nlohmann::json canonical = version.document;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (!insert.valid() || !insert.bind_text(1, version.name) || !insert.bind_text(2, version.hash)
      || !insert.bind_text(3, version.predecessor) || !insert.bind_text(4, version.creator)
      || !insert.bind_text(5,
                           canonical.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
      || !insert.bind_text(6, version.yaml) || !insert.bind_integer(7, now)
      || insert.step() != SQLITE_DONE) {
    return database_failure(m_database, "storing session '" + version.name + "'");
  }
  Statement point(m_database,
                  *m_statements,
                  "INSERT INTO current(name, hash) VALUES(?1, ?2) "
                  "ON CONFLICT(name) DO UPDATE SET hash = excluded.hash");
  if (!point.valid() || !point.bind_text(1, version.name) || !point.bind_text(2, version.hash)
      || point.step() != SQLITE_DONE) {
    return database_failure(m_database, "storing session '" + version.name + "'");
  }
  return {};
}

Result<void> Store::replace_secrets(const std::string& session, const SecretValues& values)
{
  Statement remove(m_database, *m_statements, "DELETE FROM secrets WHERE session = ?1");
  if (!remove.valid() || !remove.bind_text(1, session) || remove.step() != SQLITE_DONE) {
    return database_failure(m_database, "storing secrets");
  }
  for (const auto& [name, secret] : values) {
    Statement insert(m_database,
                     *m_statements,
                     "INSERT INTO secrets(session, name, kind, value, private_key) "
                     "VALUES(?1, ?2, ?3, ?4, ?5)");
    if (!insert.valid() || !insert.bind_text(1, session) || !insert.bind_text(2, name)
        || !insert.bind_text(3, secret.kind) || !insert.bind(4, secret.value)
        || !insert.bind(5, secret.private_key) || insert.step() != SQLITE_DONE) {
      return database_failure(m_database, "storing secrets");
    }
  }
  return {};
}

}  // namespace sconectl::cas::server
