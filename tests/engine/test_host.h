// What the engine tests share: a host's-eye view of the engine.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

#include "ukcov/ukcov.hpp"

namespace ukcov_test {

// What the trace backend can do (the state machine's tests use it in every
// build: ioctl answers do not depend on how blocks are counted).
constexpr int64_t kTraceFeatures = UKCOV_FEATURE_CMP | UKCOV_FEATURE_GUARDS;

// A build of the counters backend (-DUKCOV_COVERAGE=counters): PC mode
// only, collected at leave.
inline bool CountersBuild() { return ukcov_registered_features() & UKCOV_FEATURE_COUNTERS; }

// Everything the build can do: the trace backend's features, or what the
// counters build registered.
inline int64_t AllFeatures() {
  return CountersBuild() ? ukcov_registered_features() : UKCOV_FEATURE_CMP | UKCOV_FEATURE_GUARDS;
}

inline ukcov::Engine MakeEngine(int64_t features = AllFeatures(), int encoding = UKCOV_PC_CANONICAL) {
  ukcov_engine_options options;
  ukcov_engine_options_init(&options);
  options.features = features;
  options.pc_encoding = encoding;
  auto engine = ukcov::Engine::Create(&options);
  EXPECT_TRUE(engine.ok()) << engine.error();
  return std::move(engine.value());
}

inline ukcov::Task MakeTask(ukcov::Engine& engine) { return std::move(ukcov::Task::Create(engine).value()); }
inline ukcov::Instance OpenInstance(ukcov::Engine& engine) {
  auto instance = ukcov::Instance::Open(engine);
  EXPECT_TRUE(instance.ok()) << instance.error();
  return std::move(instance.value());
}

// Runs `fn` as the kernel side of one syscall of `task`, as a host would.
template <class F>
auto Syscall(const ukcov::Task& task, F&& fn) {
  ukcov::Serving serving(task);
  return fn();
}

inline long Ioctl(const ukcov::Task& task, const ukcov::Instance& instance, unsigned cmd, unsigned long arg) {
  return Syscall(task, [&] { return instance.Ioctl(task, cmd, arg); });
}

// The count word, read as a guest would.
inline uint64_t Count(const uint64_t* trace) { return __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE); }

}  // namespace ukcov_test
