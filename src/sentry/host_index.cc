// HostIndex's operations and the value types it is used with. Plumbing:
// not instrumented (that is its point: see host_index.h).
#include "sentry/host_index.h"

#include <unordered_map>

#include "sentry/fs/debugfs/debugfs.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/fs/tmpfs/tmpfs.h"

namespace ukcov::sentry {

template <class V>
struct HostIndex<V>::Table {
  std::unordered_map<uint64_t, V> map;
};

template <class V>
HostIndex<V>::HostIndex() : table_(std::make_unique<Table>()) {}

template <class V>
HostIndex<V>::~HostIndex() = default;

template <class V>
V* HostIndex<V>::Find(uint64_t key) {
  auto it = table_->map.find(key);
  return it == table_->map.end() ? nullptr : &it->second;
}

template <class V>
void HostIndex<V>::Set(uint64_t key, V value) {
  table_->map.insert_or_assign(key, std::move(value));
}

template <class V>
bool HostIndex<V>::Erase(uint64_t key) {
  return table_->map.erase(key) > 0;
}

template <class V>
bool HostIndex<V>::empty() const {
  return table_->map.empty();
}

template <class V>
void HostIndex<V>::EraseIf(const std::function<bool(uint64_t, V&)>& fn) {
  for (auto it = table_->map.begin(); it != table_->map.end();) {
    if (fn(it->first, it->second))
      it = table_->map.erase(it);
    else
      ++it;
  }
}

// Explicit instantiation ignores access: the filesystems' private types.
template class HostIndex<std::shared_ptr<tmpfs::Inode>>;
template class HostIndex<tmpfs::Filesystem::PathToken>;
template class HostIndex<std::shared_ptr<KcovFile>>;
template class HostIndex<debugfs::Filesystem::Token>;
template class HostIndex<ino_t>;

}  // namespace ukcov::sentry
