#include "engine/engine.h"

#include <cerrno>
#include <new>

#include "engine/instrumentation.h"

namespace ukcov::engine {
namespace {

// Areas kept for reuse at most; more are freed at once.
constexpr size_t kMaxPooledAreas = 16;

}  // namespace

Result<Engine*> Engine::Create(const ukcov_engine_options& options) {
  unsigned features = options.features < 0 ? ukcov_registered_features() : static_cast<unsigned>(options.features);
  const bool run = options.run_coverage != 0;
  // The instrumented module's map: canonical PCs encode with it, and the
  // run's coverage covers its code whatever the encoding.
  PcMap module_map;
  if (options.pc_encoding == UKCOV_PC_CANONICAL || run) {
    const void* module = options.pc_module;
    if (module == nullptr) module = FirstInstrumentedModule();
    if (module == nullptr) module = MainExecutableAddress();
    Result<PcMap> found = CanonicalPcMapFor(module);
    if (!found) return Errno{found.error()};
    module_map = found.value();
  }
  PcMap map;  // raw: encodes nothing
  if (options.pc_encoding == UKCOV_PC_CANONICAL) {
    map = module_map;
  } else if (options.pc_encoding == UKCOV_PC_GVISOR) {
    if (!(features & UKCOV_FEATURE_COUNTERS)) return Errno{EINVAL};  // numbers come from the PC table
  } else if (options.pc_encoding != UKCOV_PC_RAW) {
    return Errno{EINVAL};
  }
  PcMap run_encoding;  // raw
  if (run) {
    if (Result<void> claimed = ClaimRunMap(module_map); !claimed) return Errno{claimed.error()};
    if (options.pc_encoding != UKCOV_PC_RAW) run_encoding = module_map;
  }
  auto* engine =
      new (std::nothrow) Engine(features, map, options.pc_encoding == UKCOV_PC_GVISOR, run, run_encoding);
  if (engine == nullptr) {
    if (run) ReleaseRunMap();
    return Errno{ENOMEM};
  }
  return engine;
}

Engine::~Engine() {
  if (run_coverage_) ReleaseRunMap();
}

bool Engine::PcMapCoversInstrumentation() {
  InstrumentedModules modules = ListInstrumentedModules();
  if (modules_checked_.load(std::memory_order_acquire) == modules.generation)
    return pc_map_exact_.load(std::memory_order_relaxed);
  std::lock_guard lock(modules_mu_);
  bool exact;
  if (pc_map_.len == 0) {
    exact = pc_map_.bias == 0;
  } else {
    exact = !modules.overflow;
    for (unsigned i = 0; exact && i < modules.count; i++) {
      Result<PcMap> module = CanonicalPcMapFor(modules.addresses[i]);
      exact = module.ok() && module.value().load_base == pc_map_.load_base;
    }
  }
  pc_map_exact_.store(exact, std::memory_order_relaxed);
  modules_checked_.store(modules.generation, std::memory_order_release);
  return exact;
}

Instance* Engine::FindHandle(uint64_t handle) {
  auto it = handles_.find(handle);
  return it == handles_.end() ? nullptr : it->second;
}

bool Engine::AddHandle(uint64_t handle, Instance* instance) { return handles_.emplace(handle, instance).second; }

void Engine::RemoveHandlesOf(const Instance* instance) {
  std::erase_if(handles_, [instance](const auto& entry) { return entry.second == instance; });
}

RemoteArea Engine::TakeRemoteArea(uint64_t words) {
  for (auto it = area_pool_.begin(); it != area_pool_.end(); ++it) {
    if (it->first == words) {
      RemoteArea area = std::move(it->second);
      area_pool_.erase(it);
      return area;
    }
  }
  if (words > SIZE_MAX / sizeof(uint64_t)) return nullptr;
  return RemoteArea(static_cast<uint64_t*>(std::malloc(words * sizeof(uint64_t))));
}

void Engine::ReturnRemoteArea(RemoteArea area, uint64_t words) {
  if (area_pool_.size() < kMaxPooledAreas) area_pool_.emplace_back(words, std::move(area));
}

}  // namespace ukcov::engine
