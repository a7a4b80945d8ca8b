// An instance: one open kcov file and its area (Linux: struct kcov).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "base/mapping.h"
#include "base/unique_fd.h"
#include "engine/engine.h"
#include "engine/slot.h"
#include "ukcov/result.hpp"

namespace ukcov::engine {

class Task;

// Linux enum kcov_mode, for the instance (the task side is the Slot's mode).
enum class KcovMode { kDisabled, kInit, kTracePc, kTraceCmp, kUniquePc };

class Instance {
 public:
  static Result<Instance*> Open(Engine& engine);

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  Engine& engine() const { return *engine_; }
  int area_fd() const { return memfd_.get(); }

  // ioctl(2) on the file by `caller`: 0 or -errno, in Linux's order of checks.
  long Ioctl(Task& caller, unsigned int cmd, unsigned long arg, const ukcov_user_memory* memory);
  // mmap(2) validation: 0 or -EINVAL.
  int MmapCheck(uint64_t pgoff, uint64_t length);
  // The engine's mapping of the area and its size in words.
  uint64_t* Area(uint64_t* words);

  // Where and how the owner's slot records now; kOff when nothing is to be
  // recorded (not enabled, or remote: the owner's own syscalls are not
  // traced). Callers hold mu.
  struct View {
    RecordMode mode = RecordMode::kOff;
    uint64_t* trace = nullptr;
    uint64_t limit = 0;
    uint64_t* bitmap = nullptr;
    uint64_t bitmap_bits = 0;
  };
  View RecordingView() const;
  const Task* owner() const { return owner_; }

  // What a remote section needs, read under Engine::remote_mu (these fields
  // are written with both mu and remote_mu held).
  struct RemoteParams {
    RecordMode mode;
    uint32_t sequence;
    uint64_t area_words;
  };
  RemoteParams remote_params() const;

  // Linux kcov_remote_stop's kcov_move_area, under mu: appends a remote
  // section's area unless the instance was disabled since `sequence`.
  void AppendRemote(uint32_t sequence, RecordMode mode, const uint64_t* src);

  // Linux kcov_task_exit for the owner; the caller holds owner.mu and drops
  // the owner's reference afterwards when this returns true.
  bool DisableForExit(Task& owner);

  std::mutex mu;

 private:
  Instance(Engine& engine, UniqueFd memfd) : engine_(&engine), memfd_(std::move(memfd)) {
    engine_->Ref();
    engine_->live_instances.fetch_add(1, std::memory_order_relaxed);
  }
  ~Instance() {
    engine_->live_instances.fetch_sub(1, std::memory_order_relaxed);
    engine_->Unref();
  }

  long InitTrace(unsigned long size);
  long RemoteEnable(Task& caller, unsigned long arg, const ukcov_user_memory* memory);
  long IoctlLocked(Task& caller, unsigned int cmd, unsigned long arg, bool& drop_owner_ref);
  long Enable(Task& caller, unsigned long trace_mode);
  long UniqueEnable(Task& caller, unsigned long bitmap_words);
  long ResetTrace(Task& caller, unsigned long arg);
  // Linux kcov_disable: back to INIT, no owner, handles unregistered.
  void DisableLocked(Task& owner);
  void StartOwnership(Task& caller, KcovMode mode);
  Result<KcovMode> ModeFor(unsigned long trace_mode) const;

  Engine* const engine_;
  std::atomic<long> refs_{1};
  UniqueFd memfd_;

  // Guarded by mu.
  KcovMode mode_ = KcovMode::kDisabled;
  Mapping area_;
  uint64_t size_ = 0;  // words
  Task* owner_ = nullptr;
  bool remote_ = false;
  uint64_t remote_size_ = 0;
  uint64_t bitmap_words_ = 0;
  uint32_t sequence_ = 1;
};

}  // namespace ukcov::engine
