#pragma once

// Private to the local CAS: connections for reads, so reads never wait for a writer.

#include "sconectl/util/error.hpp"
#include "store.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace sconectl::cas::server {

// Reader connections (Store::open_reader) handed out one per request and taken back after it.
// A new one is opened when all are in use; at most `max_idle` are kept for reuse. Thread-safe.
class ReaderPool {
 public:
  explicit ReaderPool(std::filesystem::path database, std::size_t max_idle = 16)
      : m_database(std::move(database)), m_max_idle(max_idle)
  {
  }

  class Lease {
   public:
    Lease(ReaderPool& pool, std::unique_ptr<Store> store) : m_pool(&pool), m_store(std::move(store))
    {
    }
    Lease(Lease&&) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    [[nodiscard]] Store& store() const { return *m_store; }

   private:
    ReaderPool* m_pool;
    std::unique_ptr<Store> m_store;
  };

  [[nodiscard]] Result<Lease> acquire();

  // A reader connection inside a read transaction: everything read through it comes from one
  // commit. Ends the transaction, then gives the connection back.
  class Snapshot {
   public:
    Snapshot(Lease lease, Store::Transaction transaction)
        : m_lease(std::move(lease)), m_transaction(std::move(transaction))
    {
    }
    [[nodiscard]] Store& store() const { return m_lease.store(); }

   private:
    Lease m_lease;  // declared first, so destroyed after the transaction ends
    Store::Transaction m_transaction;
  };
  [[nodiscard]] Result<Snapshot> snapshot();

 private:
  void give_back(std::unique_ptr<Store> store);

  std::filesystem::path m_database;
  std::size_t m_max_idle;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<Store>> m_idle;
};

}  // namespace sconectl::cas::server
