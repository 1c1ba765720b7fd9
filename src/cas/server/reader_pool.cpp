#include "reader_pool.hpp"

namespace sconectl::cas::server {

ReaderPool::Lease::~Lease()
{
  if (m_store) {
    m_pool->give_back(std::move(m_store));
  }
}

Result<ReaderPool::Lease> ReaderPool::acquire()
{
  {
    std::lock_guard lock(m_mutex);
    if (!m_idle.empty()) {
      auto store = std::move(m_idle.back());
      m_idle.pop_back();
      return Lease(*this, std::move(store));
    }
  }
  auto store = Store::open_reader(m_database);
  if (!store) {
    return forward_error(std::move(store.error()));
  }
  return Lease(*this, std::move(*store));
}

Result<ReaderPool::Snapshot> ReaderPool::snapshot()
{
  auto lease = acquire();
  if (!lease) {
    return forward_error(std::move(lease.error()));
  }
  auto transaction = lease->store().begin_read();
  if (!transaction) {
    return forward_error(std::move(transaction.error()));
  }
  return Snapshot(std::move(*lease), std::move(*transaction));
}

void ReaderPool::give_back(std::unique_ptr<Store> store)
{
  std::lock_guard lock(m_mutex);
  if (m_idle.size() < m_max_idle) {
    m_idle.push_back(std::move(store));
  }
}

}  // namespace sconectl::cas::server
