#pragma once

// Private to the local CAS: the one writer of the session store.

#include "sconectl/util/error.hpp"
#include "store.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>

namespace sconectl::cas::server {

// Writes that arrive while another batch commits share the next transaction and its one fsync.
// Each write runs in its own savepoint, in arrival order, so it sees the writes before it and is
// undone alone when it refuses; its caller is answered only after the commit. Thread-safe: the
// first waiting thread commits the batch for all (no thread of its own).
class GroupCommit {
 public:
  // Returns true to keep what it wrote, false to undo it (a refused upload). May throw: the
  // exception is rethrown to its caller, and what it wrote is undone.
  using Write = std::function<bool(Store&)>;

  explicit GroupCommit(std::unique_ptr<Store> store, std::size_t max_batch = 64)
      : m_store(std::move(store)), m_max_batch(max_batch)
  {
  }

  // Runs `write` and, when it kept its changes, returns once they are durable. An error means
  // they are not: the transaction could not begin or commit.
  [[nodiscard]] Result<void> run(const Write& write);

  // Transactions begun so far (fewer than writes when writes were grouped).
  [[nodiscard]] std::size_t transactions();

 private:
  struct Pending {
    const Write* write = nullptr;
    bool kept = false;
    std::exception_ptr exception;
    std::optional<Error> failure;
    bool done = false;
  };

  void commit(const std::deque<Pending*>& batch);
  bool run_one(Pending& pending);

  std::unique_ptr<Store> m_store;
  std::size_t m_max_batch;
  std::mutex m_mutex;
  std::condition_variable m_finished;
  std::deque<Pending*> m_waiting;
  bool m_committing = false;
  std::size_t m_transactions = 0;
};

}  // namespace sconectl::cas::server
