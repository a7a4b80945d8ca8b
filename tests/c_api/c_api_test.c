/* A complete host in C: the kcov.rst example through the C API, with a
 * guest mapping of the area, checked step by step. Exit status 0 = pass. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "c_kernel.h"
#include "ukcov/ukcov.h"

static int failures;
#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) {                                                \
      fprintf(stderr, "%s:%d: CHECK(%s)\n", __FILE__, __LINE__, #cond); \
      failures++;                                                 \
    }                                                             \
  } while (0)

static long syscall_ioctl(ukcov_instance* inst, ukcov_task* task, unsigned cmd, unsigned long arg) {
  ukcov_enter(task);
  long r = ukcov_instance_ioctl(inst, task, cmd, arg, NULL);
  ukcov_leave();
  return r;
}

int main(void) {
  ukcov_engine* engine = NULL;
  CHECK(ukcov_engine_create(NULL, &engine) == 0);
  /* The trace backend registers comparisons; the counters backend, counters. */
  CHECK(ukcov_registered_features() & (UKCOV_FEATURE_CMP | UKCOV_FEATURE_COUNTERS));
  ukcov_task* task = ukcov_task_create(engine);
  CHECK(task != NULL);
  ukcov_instance* inst = NULL;
  CHECK(ukcov_instance_open(engine, &inst) == 0);

  enum { kWords = 64 << 10 };
  CHECK(syscall_ioctl(inst, task, UKCOV_KCOV_INIT_TRACE, kWords) == 0);
  CHECK(ukcov_instance_mmap_check(inst, 0, kWords * 8) == 0);
  CHECK(ukcov_instance_mmap_check(inst, 1, kWords * 8) == -EINVAL);
  uint64_t* cover = mmap(NULL, kWords * 8, PROT_READ | PROT_WRITE, MAP_SHARED, ukcov_instance_area_fd(inst), 0);
  CHECK(cover != MAP_FAILED);
  CHECK(syscall_ioctl(inst, task, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC) == 0);
  __atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);

  ukcov_enter(task);
  long r = c_kernel_read(-1, NULL, 0);
  ukcov_leave();
  CHECK(r == -EBADF);
  uint64_t n = __atomic_load_n(&cover[0], __ATOMIC_RELAXED);
  CHECK(n > 0);
  for (uint64_t i = 1; i <= n; i++) CHECK(cover[i] >= UKCOV_CANONICAL_PC_BASE);

  CHECK(syscall_ioctl(inst, task, UKCOV_KCOV_DISABLE, 1) == -EINVAL);
  CHECK(syscall_ioctl(inst, task, UKCOV_KCOV_DISABLE, 0) == 0);
  CHECK(syscall_ioctl(inst, task, 0x1234, 0) == -ENOTTY);
  munmap(cover, kWords * 8);
  ukcov_instance_put(inst);
  ukcov_engine_stats stats;
  ukcov_engine_get_stats(engine, &stats);
  CHECK(stats.instances == 0);
  ukcov_task_exit(task);
  ukcov_engine_destroy(engine);
  if (failures == 0) printf("c_api_test: %llu PCs, all checks passed\n", (unsigned long long)n);
  return failures == 0 ? 0 : 1;
}
