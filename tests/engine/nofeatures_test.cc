// A host whose build compiled in no comparison callbacks and no guards:
// nothing registered, so the engine answers 524 for CMP and unique modes,
// as a Linux kernel without CONFIG_KCOV_ENABLE_COMPARISONS/KCOV_UNIQUE does.
#include <gtest/gtest.h>

#include "ukcov/ukcov.hpp"

TEST(NoFeatures, NothingRegistered) {
  EXPECT_EQ(ukcov_registered_features(), 0u);
  EXPECT_EQ(ukcov_guard_count(), 0u);
}

TEST(NoFeatures, CmpAndUniqueAreEnotsupp) {
  auto engine = ukcov::Engine::Create();
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ(engine->features(), 0u);
  auto task = ukcov::Task::Create(*engine);
  auto inst = ukcov::Instance::Open(*engine);
  ukcov::Serving serving(*task);
  ASSERT_EQ(inst->Ioctl(*task, UKCOV_KCOV_INIT_TRACE, 64), 0);
  EXPECT_EQ(inst->Ioctl(*task, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_CMP), -UKCOV_ENOTSUPP);
  EXPECT_EQ(inst->Ioctl(*task, UKCOV_KCOV_UNIQUE_ENABLE, 1), -UKCOV_ENOTSUPP);
  EXPECT_EQ(inst->Ioctl(*task, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC), 0);
}

TEST(NoFeatures, CanonicalMapDefaultsToTheMainExecutable) {
  auto engine = ukcov::Engine::Create();
  ASSERT_TRUE(engine.ok());
  uintptr_t here = reinterpret_cast<uintptr_t>(&ukcov_engine_create);  // linked into this executable
  uint64_t pc = engine->EncodePc(here);
  EXPECT_GE(pc, UKCOV_CANONICAL_PC_BASE);
  EXPECT_LT(pc, 0xffffffffff000000ull);
  ukcov_pc_map map;
  ukcov_engine_pc_map(engine->get(), &map);
  EXPECT_EQ(pc, UKCOV_CANONICAL_PC_BASE + (here - map.load_base));
  // Addresses outside the module stay raw.
  uintptr_t stack = reinterpret_cast<uintptr_t>(&map);
  EXPECT_EQ(engine->EncodePc(stack), stack);
}

TEST(NoFeatures, BadPcModuleIsEinval) {
  ukcov_engine_options options;
  ukcov_engine_options_init(&options);
  int on_stack = 0;
  options.pc_module = &on_stack;
  ukcov_engine* engine = nullptr;
  EXPECT_EQ(ukcov_engine_create(&options, &engine), -EINVAL);
  options.pc_module = nullptr;
  options.pc_encoding = 7;
  EXPECT_EQ(ukcov_engine_create(&options, &engine), -EINVAL);
}
