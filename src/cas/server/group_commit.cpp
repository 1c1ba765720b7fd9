#include "group_commit.hpp"

namespace sconectl::cas::server {

Result<void> GroupCommit::run(const Write& write)
{
  Pending pending{.write = &write};
  std::unique_lock lock(m_mutex);
  m_waiting.push_back(&pending);
  while (!pending.done) {
    if (m_committing) {
      m_finished.wait(lock);
      continue;
    }
    // Nobody commits: this thread takes what is waiting (its own write among it) and commits it.
    std::deque<Pending*> batch;
    while (!m_waiting.empty() && batch.size() < m_max_batch) {
      batch.push_back(m_waiting.front());
      m_waiting.pop_front();
    }
    m_committing = true;
    ++m_transactions;
    lock.unlock();
    commit(batch);
    lock.lock();
    m_committing = false;
    for (auto* finished : batch) {
      finished->done = true;
    }
    m_finished.notify_all();
  }
  if (pending.exception) {
    std::rethrow_exception(pending.exception);
  }
  if (pending.failure) {
    return tl::unexpected(std::move(*pending.failure));
  }
  return {};
}

std::size_t GroupCommit::transactions()
{
  std::lock_guard lock(m_mutex);
  return m_transactions;
}

bool GroupCommit::run_one(Pending& pending)
{
  auto savepoint = m_store->savepoint();
  if (!savepoint) {
    pending.failure = savepoint.error();
    return false;
  }
  try {
    pending.kept = (*pending.write)(*m_store);
  } catch (...) {
    pending.exception = std::current_exception();
    return false;  // the savepoint's destructor undoes what it wrote
  }
  if (!pending.kept) {
    return false;
  }
  if (auto released = savepoint->release(); !released) {
    pending.kept = false;
    pending.failure = released.error();
    return false;
  }
  return true;
}

void GroupCommit::commit(const std::deque<Pending*>& batch)
{
  auto transaction = m_store->begin();
  if (!transaction) {
    for (auto* pending : batch) {
      pending->failure = transaction.error();
    }
    return;
  }
  bool any_kept = false;
  for (std::size_t next = 0; next < batch.size(); ++next) {
    if (!m_store->in_transaction()) {
      // SQLite ended the transaction after an error: what was kept is gone, the rest cannot run.
      const auto lost = fail(ErrorKind::internal,
                             "session store: the transaction was rolled back after an error");
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (i >= next || batch[i]->kept) {
          batch[i]->kept = false;
          batch[i]->failure = lost.value();
        }
      }
      return;
    }
    any_kept = run_one(*batch[next]) || any_kept;
  }
  if (!any_kept) {
    return;  // the transaction's destructor rolls back: nothing to make durable
  }
  if (auto committed = transaction->commit(); !committed) {
    for (auto* pending : batch) {
      if (pending->kept) {
        pending->failure = committed.error();
      }
    }
  }
}

}  // namespace sconectl::cas::server
