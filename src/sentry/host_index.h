// A table keyed by a number the host chooses (a memfd's inode number), or
// changed when the host reports something asynchronously (a release). A
// hash table's path to an entry depends on its key's bits, on which other
// keys share its bucket and on how full it is, so in instrumented code the
// same guest call on the same state would run other blocks as the host
// numbered its inodes or timed its reports otherwise, and coverage would
// vary from run to run (docs/coverage.md, "Stable"). The operations live
// in host_index.cc, which is not instrumented; a caller sees one call per
// operation whatever the keys.
//
// Only the value types instantiated in host_index.cc can be used.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace ukcov::sentry {

template <class V>
class HostIndex {
 public:
  HostIndex();
  ~HostIndex();
  HostIndex(const HostIndex&) = delete;
  HostIndex& operator=(const HostIndex&) = delete;

  V* Find(uint64_t key);             // null: absent
  void Set(uint64_t key, V value);   // inserts or replaces
  bool Erase(uint64_t key);          // false: absent
  bool empty() const;
  // Calls `fn` on every entry (in an order of the host's numbers: what `fn`
  // does must not depend on it); an entry goes when `fn` returns true.
  void EraseIf(const std::function<bool(uint64_t, V&)>& fn);

 private:
  struct Table;
  std::unique_ptr<Table> table_;
};

}  // namespace ukcov::sentry
