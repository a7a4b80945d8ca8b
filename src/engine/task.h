// A task: one guest thread, as the engine sees it (Linux: the kcov fields of
// task_struct).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "engine/engine.h"

namespace ukcov::engine {

class Instance;

class Task {
 public:
  // null on ENOMEM.
  static Task* Create(Engine& engine, uint64_t common_handle);

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  Engine& engine() const { return *engine_; }

  // Linux kcov_task_init: a child owns nothing and inherits the common handle.
  Task* Fork();
  // Linux kcov_task_exit: an owned instance is disabled.
  void Exit();
  uint64_t common_handle();

  std::mutex mu;
  Instance* kcov = nullptr;  // guarded by mu; the owned instance, with a reference
  uint64_t handle = 0;       // guarded by mu; the common remote handle
  // Mirrors kcov != null, for a lock-free ukcov_enter() of tasks without kcov.
  // Written under mu.
  std::atomic<bool> has_kcov{false};

 private:
  explicit Task(Engine& engine, uint64_t common_handle) : engine_(&engine) {
    handle = common_handle;
    engine_->Ref();
    engine_->live_tasks.fetch_add(1, std::memory_order_relaxed);
  }
  ~Task() {
    engine_->live_tasks.fetch_sub(1, std::memory_order_relaxed);
    engine_->Unref();
  }

  Engine* const engine_;
  std::atomic<long> refs_{1};
};

}  // namespace ukcov::engine
