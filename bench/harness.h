// What the engine benchmarks share: a task served on this thread with an
// instance enabled in a given mode, and the "syscall" they time.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "blocks.h"
#include "seed.h"
#include "ukcov/ukcov.hpp"

namespace bench {

enum class Mode { kPlain, kOff, kPc, kCmp, kUnique, kSeed, kRun };

inline const char* Name(Mode m) {
  switch (m) {
    case Mode::kPlain: return "plain";
    case Mode::kOff: return "ukcov_off";
    case Mode::kPc: return "ukcov_pc";
    case Mode::kCmp: return "ukcov_cmp";
    case Mode::kUnique: return "ukcov_unique";
    case Mode::kSeed: return "seed_counters";
    case Mode::kRun: return "ukcov_run";  // the whole run's coverage, no kcov
  }
  return "?";
}

inline bool Parse(const std::string& s, Mode* m) {
  for (Mode c : {Mode::kPlain, Mode::kOff, Mode::kPc, Mode::kCmp, Mode::kUnique, Mode::kSeed, Mode::kRun})
    if (s == Name(c)) return *m = c, true;
  return false;
}

constexpr uint64_t kAreaWords = 1 << 16;

// A task being served, with its area set up for `mode`. Aborts on any
// engine error: a benchmark of a broken set-up is worth nothing.
class Served {
 public:
  explicit Served(Mode mode, size_t seed_blocks = kSeedBlocks) : mode_(mode), seed_(seed_blocks) {
    ukcov_engine_options options;
    ukcov_engine_options_init(&options);
    options.run_coverage = mode == Mode::kRun;
    engine_ = std::make_unique<ukcov::Engine>(Must(ukcov::Engine::Create(&options)));
    task_ = std::make_unique<ukcov::Task>(Must(ukcov::Task::Create(*engine_)));
    inst_ = std::make_unique<ukcov::Instance>(Must(ukcov::Instance::Open(*engine_)));
    g_seed_counters = seed_.counters();
    Check(inst_->Ioctl(*task_, UKCOV_KCOV_INIT_TRACE, kAreaWords));
    area_ = inst_->area().data();
    trace_ = area_;
    if (mode == Mode::kPc) Check(inst_->Ioctl(*task_, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC));
    if (mode == Mode::kCmp) Check(inst_->Ioctl(*task_, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_CMP));
    if (mode == Mode::kUnique) {
      uint64_t words = ukcov_guard_count() / 64 + 1;
      Check(inst_->Ioctl(*task_, UKCOV_KCOV_UNIQUE_ENABLE, words));
      trace_ = area_ + words;
    }
    ukcov_enter(task_->get());
    if (mode == Mode::kUnique) Call();  // steady state: every bit already set
  }
  ~Served() { ukcov_leave(); }

  // One syscall's worth of kernel work, after the guest's reset of the count.
  __attribute__((always_inline)) uint64_t Call() {
    __atomic_store_n(&trace_[0], 0, __ATOMIC_RELAXED);
    switch (mode_) {
      case Mode::kPlain: return bench_plain::Run(~0ull);
      case Mode::kSeed: return bench_seed::Run(~0ull);
      default: return bench_trace::Run(~0ull);
    }
  }
  uint64_t count() const { return __atomic_load_n(&trace_[0], __ATOMIC_RELAXED); }
  uint64_t* area() { return area_; }
  SeedCoverage& seed() { return seed_; }
  ukcov::Task& task() { return *task_; }

 private:
  template <class T>
  static T Must(ukcov::Result<T> r) {
    if (!r) std::abort();
    return std::move(r.value());
  }
  static void Check(long r) {
    if (r != 0) std::abort();
  }

  Mode mode_;
  SeedCoverage seed_;
  std::unique_ptr<ukcov::Engine> engine_;
  std::unique_ptr<ukcov::Task> task_;
  std::unique_ptr<ukcov::Instance> inst_;
  uint64_t* area_ = nullptr;
  uint64_t* trace_ = nullptr;
};

// Callbacks (PC mode) and records (CMP mode) one Call() makes.
inline uint64_t CallbacksPerCall(Mode mode) {
  Served s(mode);
  s.Call();
  return s.count();
}

}  // namespace bench
