#include "engine/run_coverage.h"

#include <sys/mman.h>

#include <cerrno>
#include <mutex>

namespace ukcov::engine {
namespace {

std::mutex g_run_owner_mu;  // serialises claims and releases

}  // namespace

Result<void> ClaimRunMap(const PcMap& module) {
  std::lock_guard lock(g_run_owner_mu);
  if (g_run_map.bytes != nullptr) return Errno{EBUSY};
  if (module.len == 0) return Errno{EINVAL};
  void* bytes = mmap(nullptr, module.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (bytes == MAP_FAILED) return Errno{ENOMEM};
  g_run_map.lo = module.lo;
  g_run_map.len = module.len;
  __atomic_store_n(&g_run_map.bytes, static_cast<uint8_t*>(bytes), __ATOMIC_RELEASE);
  return {};
}

void ReleaseRunMap() {
  std::lock_guard lock(g_run_owner_mu);
  if (g_run_map.bytes == nullptr) return;
  munmap(g_run_map.bytes, g_run_map.len);
  g_run_map = {};
}

}  // namespace ukcov::engine
