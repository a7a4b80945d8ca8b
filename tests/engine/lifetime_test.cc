// Lifetimes: who keeps an instance, its area and the engine alive.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "fake_kernel.h"
#include "test_host.h"

namespace ukcov_test {
namespace {

// A guest's view: its own mapping of the instance's memfd.
uint64_t* MapLikeAGuest(const ukcov::Instance& inst, size_t bytes, int prot = PROT_READ | PROT_WRITE) {
  void* p = mmap(nullptr, bytes, prot, MAP_SHARED, inst.area_fd(), 0);
  EXPECT_NE(p, MAP_FAILED);
  return static_cast<uint64_t*>(p);
}

TEST(Lifetime, GuestMappingSeesTheVeryPages) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 512), 0);
  ASSERT_EQ(inst.MmapCheck(0, 4096), 0);
  uint64_t* first = MapLikeAGuest(inst, 4096);
  uint64_t* second = MapLikeAGuest(inst, 4096);
  uint64_t* readonly = MapLikeAGuest(inst, 4096, PROT_READ);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, 0), 0);
  first[0] = 0;
  Syscall(task, [] { return fake_kernel::PathB(6); });
  EXPECT_GT(second[0], 0u);
  EXPECT_EQ(readonly[0], second[0]);
  EXPECT_EQ(readonly[1], inst.area()[1]);
  // RESET_TRACE serves clients that map read-only.
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_RESET_TRACE, 0), 0);
  EXPECT_EQ(readonly[0], 0u);
  munmap(first, 4096);
  munmap(second, 4096);
  munmap(readonly, 4096);
}

TEST(Lifetime, CloseWhileEnabledKeepsCollectingUntilOwnerExits) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 512), 0);
  uint64_t* guest = MapLikeAGuest(inst, 4096);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, 0), 0);
  inst.Close();  // kcovfuzzer closes the fd right after ENABLE
  EXPECT_EQ(engine.stats().instances, 1u);
  guest[0] = 0;
  Syscall(task, [] { return fake_kernel::PathA(10); });
  EXPECT_GT(guest[0], 0u);
  task.Exit();
  EXPECT_EQ(engine.stats().instances, 0u);
  munmap(guest, 4096);
}

int OpenFds() {
  int n = 0;
  for (int fd = 0; fd < 4096; fd++) n += fcntl(fd, F_GETFD) != -1;
  return n;
}

// The memfd and the mapping go with the last user: the file's reference,
// the owner, and a slot that pinned the area, released in every order.
TEST(Lifetime, AreaIsFreedWithTheLastUser) {
  ukcov::Engine engine = MakeEngine();
  const int fds = OpenFds();
  for (int order = 0; order < 3; order++) {
    ukcov::Task task = MakeTask(engine);
    ukcov::Instance inst = OpenInstance(engine);
    ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 1 << 12), 0);
    ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, 0), 0);
    EXPECT_EQ(OpenFds(), fds + 1);
    ukcov_enter(task.get());  // the slot pins the instance
    if (order == 0) {
      inst.Close();
      task.Exit();
      EXPECT_EQ(engine.stats().instances, 1u);
      ukcov_leave();
    } else if (order == 1) {
      ukcov_leave();
      task.Exit();
      inst.Close();
    } else {
      task.Exit();
      ukcov_leave();
      inst.Close();
    }
    EXPECT_EQ(engine.stats().instances, 0u);
    EXPECT_EQ(OpenFds(), fds) << "order " << order;
  }
}

TEST(Lifetime, AreaIsSealedAgainstResizing) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 512), 0);
  EXPECT_EQ(ftruncate(inst.area_fd(), 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(ftruncate(inst.area_fd(), 1 << 20), -1);
  struct stat st;
  ASSERT_EQ(fstat(inst.area_fd(), &st), 0);
  EXPECT_EQ(st.st_size, 4096);
}

TEST(Lifetime, AreaFdExistsFromOpen) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_GE(inst.area_fd(), 0);
  EXPECT_NE(fcntl(inst.area_fd(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(inst.area().data(), nullptr);
  EXPECT_EQ(inst.area().size(), 0u);
}

TEST(Lifetime, EngineOutlivesItsHandleWhileObjectsLive) {
  ukcov_engine* engine = nullptr;
  ukcov_engine_options options;
  ukcov_engine_options_init(&options);
  ASSERT_EQ(ukcov_engine_create(&options, &engine), 0);
  ukcov_task* task = ukcov_task_create(engine);
  ukcov_instance* inst = nullptr;
  ASSERT_EQ(ukcov_instance_open(engine, &inst), 0);
  ukcov_engine_destroy(engine);  // the host lets go first
  ukcov_enter(task);
  EXPECT_EQ(ukcov_instance_ioctl(inst, task, UKCOV_KCOV_INIT_TRACE, 512, nullptr), 0);
  EXPECT_EQ(ukcov_instance_ioctl(inst, task, UKCOV_KCOV_ENABLE, 0, nullptr), 0);
  fake_kernel::PathA(1);
  ukcov_leave();
  ukcov_instance_put(inst);
  ukcov_task_exit(task);  // frees the instance, then the engine (ASan checks)
}

TEST(Lifetime, SharedReferencesKeepTheInstance) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Instance a = OpenInstance(engine);
  ukcov::Instance b = a.Share();
  a.Close();
  EXPECT_EQ(engine.stats().instances, 1u);
  ukcov::Task task = MakeTask(engine);
  EXPECT_EQ(Ioctl(task, b, UKCOV_KCOV_INIT_TRACE, 64), 0);
  b.Close();
  EXPECT_EQ(engine.stats().instances, 0u);
}

TEST(Lifetime, EnterSwitchesTasksAndLeaveIsIdempotent) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Task a = MakeTask(engine);
  ukcov::Task b = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(a, inst, UKCOV_KCOV_INIT_TRACE, 512), 0);
  ASSERT_EQ(Ioctl(a, inst, UKCOV_KCOV_ENABLE, 0), 0);
  uint64_t* area = inst.area().data();
  area[0] = 0;
  ukcov_enter(a.get());
  EXPECT_EQ(ukcov_current(), a.get());
  ukcov_enter(b.get());  // a host that forgot to leave: now serving b only
  EXPECT_EQ(ukcov_current(), b.get());
  fake_kernel::PathA(2);
  ukcov_leave();
  ukcov_leave();
  EXPECT_EQ(ukcov_current(), nullptr);
  EXPECT_EQ(Count(area), 0u);
}

TEST(Lifetime, EnableTakesEffectInTheIoctlItself) {
  // Linux starts tracing the caller inside ENABLE: code the host runs after
  // the engine returns, in the same syscall, is already traced.
  ukcov::Engine engine = MakeEngine();
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 512), 0);
  uint64_t* area = inst.area().data();
  Syscall(task, [&] {
    EXPECT_EQ(inst.Ioctl(task, UKCOV_KCOV_ENABLE, 0), 0);
    fake_kernel::PathA(3);
  });
  uint64_t n = Count(area);
  EXPECT_GT(n, 0u);
  Syscall(task, [&] {
    EXPECT_EQ(inst.Ioctl(task, UKCOV_KCOV_DISABLE, 0), 0);
    fake_kernel::PathA(3);
  });
  EXPECT_EQ(Count(area), n);
}

TEST(Lifetime, ExitedTaskStaysUsableUntilReleased) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 64), 0);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, 0), 0);
  task.Exited();  // the instance is free again...
  ukcov::Task other = MakeTask(engine);
  EXPECT_EQ(Ioctl(other, inst, UKCOV_KCOV_ENABLE, 0), 0);
  // ...and the exited task's handle still serves its last syscall.
  EXPECT_EQ(Ioctl(task, inst, UKCOV_KCOV_DISABLE, 0), -EINVAL);
  task.Exited();  // idempotent
  EXPECT_EQ(engine.stats().tasks, 2u);
  task.Exit();
  EXPECT_EQ(engine.stats().tasks, 1u);
}

TEST(Lifetime, TasksFromAnotherEngineAreRefused) {
  ukcov::Engine e1 = MakeEngine();
  ukcov::Engine e2 = MakeEngine();
  ukcov::Task task = MakeTask(e2);
  ukcov::Instance inst = OpenInstance(e1);
  EXPECT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 64), -EINVAL);
}

}  // namespace
}  // namespace ukcov_test
