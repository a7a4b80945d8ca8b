// One kcov engine: its configuration, the remote handle registry and the
// pool of temporary remote areas (Linux: kcov_remote_map and
// kcov_remote_areas under kcov_remote_lock). Tasks and instances belong to
// one engine and keep it alive.
//
// Lock order, everywhere: Task::mu, then Instance::mu, then Engine::remote_mu.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/pc_map.h"
#include "engine/run_coverage.h"
#include "ukcov/result.hpp"
#include "ukcov/ukcov.h"

namespace ukcov::engine {

class Instance;

struct FreeDeleter {
  void operator()(uint64_t* p) const { std::free(p); }
};
using RemoteArea = std::unique_ptr<uint64_t, FreeDeleter>;

class Engine {
 public:
  static Result<Engine*> Create(const ukcov_engine_options& options);

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  unsigned features() const { return features_; }

  // Live objects, for ukcov_engine_get_stats.
  std::atomic<long> live_tasks{0};
  std::atomic<long> live_instances{0};
  size_t handle_count() {
    std::lock_guard lock(remote_mu);
    return handles_.size();
  }
  const PcMap& pc_map() const { return pc_map_; }
  // Whether `address + bias` is the exact encoding of every address a
  // callback can see: every instrumented module is the map's module (or PCs
  // are raw, bias 0). Then TRACE_PC records without the range check, as
  // Linux's canonicalize_ip subtracts the KASLR offset unconditionally.
  // Cheap unless a module registered since the last call.
  bool PcMapCoversInstrumentation();
  // Counters backend: PCs are gVisor's synthetic numbers (UKCOV_PC_GVISOR).
  bool synthetic_pcs() const { return synthetic_pcs_; }
  // The whole run's coverage is collected (run_coverage.h): serving threads
  // carry kRunBit.
  bool run_coverage() const { return run_coverage_; }
  // Each PC of the run's coverage, ascending: canonical, or raw addresses
  // when the engine's encoding is raw (gVisor's numbers: canonical PCs,
  // which are what a report reads).
  template <class Visit>
  void VisitRunCoverage(Visit&& visit) const;

  // The registry; callers hold remote_mu.
  std::mutex remote_mu;
  Instance* FindHandle(uint64_t handle);
  bool AddHandle(uint64_t handle, Instance* instance);  // false: already registered
  void RemoveHandlesOf(const Instance* instance);

  // A zeroed-count area of `words` words for a remote section; null on ENOMEM.
  // Callers hold remote_mu.
  RemoteArea TakeRemoteArea(uint64_t words);
  void ReturnRemoteArea(RemoteArea area, uint64_t words);

 private:
  Engine(unsigned features, PcMap pc_map, bool synthetic_pcs, bool run_coverage, PcMap run_encoding)
      : features_(features),
        pc_map_(pc_map),
        synthetic_pcs_(synthetic_pcs),
        run_coverage_(run_coverage),
        run_encoding_(run_encoding) {}
  ~Engine();

  std::atomic<long> refs_{1};
  const unsigned features_;
  const PcMap pc_map_;
  const bool synthetic_pcs_;
  const bool run_coverage_;  // this engine owns the run map
  const PcMap run_encoding_;  // how the run's PCs are encoded (raw: len 0)
  std::mutex modules_mu_;
  std::atomic<unsigned> modules_checked_{~0u};  // the generation `pc_map_exact_` is for
  std::atomic<bool> pc_map_exact_{false};
  std::unordered_map<uint64_t, Instance*> handles_;
  // Free areas by size, reused like Linux's kcov_remote_area_get/put.
  std::vector<std::pair<uint64_t, RemoteArea>> area_pool_;
};

template <class Visit>
void Engine::VisitRunCoverage(Visit&& visit) const {
  VisitRun([&](uintptr_t address) { visit(run_encoding_.Encode(address)); });
}

}  // namespace ukcov::engine
