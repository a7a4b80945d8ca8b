/* kcov as the syzkaller executor uses it, step by step: cover fds dup2'ed to
 * fixed numbers, INIT in the fork server, the area mapped with MAP_FIXED
 * between PROT_NONE guard pages, the delayed-mmap probe (one fd mapped
 * twice), extra (remote) coverage with common_handle = procid + 1, then per
 * program a fresh child whose 32 worker threads each ENABLE an inherited fd
 * and never DISABLE, the main thread resetting the workers' areas, and the
 * next child enabling the same fds right after waitpid. Also read-only
 * areas (pkey_mprotect) with RESET_TRACE.
 * Prints one line per failed check and a summary; 0 when all passed, 77
 * when the kernel has no kcov. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define KCOV_INIT_TRACE64 _IOR('c', 1, uint64_t)
#define KCOV_ENABLE _IO('c', 100)
#define KCOV_DISABLE _IO('c', 101)
#define KCOV_REMOTE_ENABLE _IOW('c', 102, struct kcov_remote_arg_head)
#define KCOV_RESET_TRACE _IO('c', 104)
#define KCOV_TRACE_PC 0
#define KCOV_TRACE_CMP 1
#define KCOV_SUBSYSTEM_USB (0x01ull << 56)

/* Linux's struct kcov_remote_arg ends in a flexible array of handles: the
 * ioctl number encodes the size of the header alone. */
struct kcov_remote_arg_head {
  uint32_t trace_mode, area_size, num_handles, pad;
  uint64_t common_handle;
};
struct kcov_remote_arg_1 {
  struct kcov_remote_arg_head head;
  uint64_t handle;
};

/* The executor's numbers. */
enum { kMaxThreads = 32, kCoverFd = 216, kExtraCoverFd = kCoverFd - 1 };
#define kCoverSize (512 << 10)
#define kExtraCoverSize (1024 << 10)
#define PAGE 4096
#define ROUNDS 12
static const int procid = 3;

static int passed, failed;
#define CHECK(cond)                                                                \
  do {                                                                             \
    if (cond) {                                                                    \
      passed++;                                                                    \
    } else {                                                                       \
      failed++;                                                                    \
      printf("FAIL %s:%d: %s (errno %d)\n", __func__, __LINE__, #cond, errno);     \
    }                                                                              \
  } while (0)

struct cover {
  int fd;
  size_t size;  /* bytes */
  uint64_t* data;
};

static struct cover covers[kMaxThreads];
static struct cover extra;

static uint64_t count(const uint64_t* area) { return __atomic_load_n(&area[0], __ATOMIC_RELAXED); }
static void reset(uint64_t* area) { __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED); }

static int cover_open(struct cover* cov, int fixed_fd, size_t words) {
  int fd = open("/sys/kernel/debug/kcov", O_RDWR);
  if (fd < 0) return -1;
  if (dup2(fd, fixed_fd) != fixed_fd) return -1;
  close(fd);
  cov->fd = fixed_fd;
  cov->size = words * 8;
  return ioctl(cov->fd, KCOV_INIT_TRACE64, words);
}

/* Perms of the mapping that contains addr, from /proc/self/maps ("" if none). */
static void perms_at(const void* addr, char out[5]) {
  out[0] = 0;
  FILE* maps = fopen("/proc/self/maps", "r");
  if (!maps) return;
  char line[512];
  uintptr_t a = (uintptr_t)addr;
  while (fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    char p[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
      memcpy(out, p, 5);
      break;
    }
  }
  fclose(maps);
}

/* The area with a PROT_NONE guard page on each side, mapped over an
 * anonymous reservation with MAP_FIXED. */
static uint64_t* cover_mmap(struct cover* cov) {
  char* mapped = mmap(NULL, cov->size + 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return NULL;
  if (mprotect(mapped, PAGE, PROT_NONE) != 0 || mprotect(mapped + PAGE + cov->size, PAGE, PROT_NONE) != 0) return NULL;
  void* data = mmap(mapped + PAGE, cov->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, cov->fd, 0);
  return data == MAP_FAILED ? NULL : data;
}

static void fork_server_setup(void) {
  int all = 1;
  for (int i = 0; i < kMaxThreads; i++) all &= cover_open(&covers[i], kCoverFd + i, kCoverSize) == 0;
  CHECK(all);
  /* The delayed-mmap feature probe: the same fd mapped twice, the second
   * mapping written. */
  struct cover probe = covers[0];
  uint64_t* first = cover_mmap(&probe);
  uint64_t* second = cover_mmap(&probe);
  CHECK(first && second && first != second);
  if (second) {
    ((volatile char*)second)[8] = 1;
    CHECK(((volatile char*)first)[8] == 1);  /* the same pages */
    ((volatile char*)second)[8] = 0;
    munmap((char*)second - PAGE, probe.size + 2 * PAGE);
  }
  if (first) munmap((char*)first - PAGE, probe.size + 2 * PAGE);

  for (int i = 0; i < kMaxThreads; i++) all &= (covers[i].data = cover_mmap(&covers[i])) != NULL;
  CHECK(all);
  char p[5];
  perms_at((char*)covers[1].data - 1, p);
  CHECK(strcmp(p, "---p") == 0);
  perms_at(covers[1].data, p);
  CHECK(strcmp(p, "rw-s") == 0);
  perms_at((char*)covers[1].data + covers[1].size, p);
  CHECK(strcmp(p, "---p") == 0);

  /* Extra coverage: background work caused by this process tree. */
  CHECK(cover_open(&extra, kExtraCoverFd, kExtraCoverSize) == 0);
  CHECK((extra.data = cover_mmap(&extra)) != NULL);
  struct kcov_remote_arg_1 arg = {{.trace_mode = KCOV_TRACE_PC, .area_size = kExtraCoverSize, .num_handles = 1}};
  arg.head.common_handle = (uint64_t)(procid + 1);
  arg.handle = KCOV_SUBSYSTEM_USB | (uint64_t)(procid + 1);
  CHECK(ioctl(extra.fd, KCOV_REMOTE_ENABLE, &arg) == 0);
  reset(extra.data);
}

/* A process that enabled an fd and exited has released it by the time its
 * parent's waitpid returns (Linux's kcov_task_exit runs before the exit is
 * reported): the parent's ENABLE right after never sees EBUSY. */
static void enable_after_waitpid(void) {
  struct cover cov;
  CHECK(cover_open(&cov, kCoverFd, 1024) == 0);
  int busy = 0, other = 0, first_errno = 0;
  for (int i = 0; i < 200; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(ioctl(cov.fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0 ? 0 : 1);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) other++;
    if (ioctl(cov.fd, KCOV_ENABLE, KCOV_TRACE_PC) != 0) {
      if (!first_errno) first_errno = errno;
      busy++;
      continue;
    }
    if (ioctl(cov.fd, KCOV_DISABLE, 0) != 0) other++;
  }
  if (busy) printf("enable_after_waitpid: ENABLE failed %d times in 200 (errno %d first)\n", busy, first_errno);
  CHECK(busy == 0 && other == 0);
  close(cov.fd);
}

/* ---- one program, in a child of the fork server ---- */

struct worker {
  pthread_t tid;
  int index, mode;
  int enable_result, enable_errno;
  int go, done;  /* futex-free handshake: spin on atomics with sched_yield */
  uint64_t after_reset, own;
  int pcs_in_range, readonly_ok;
};

/* A read-only area (the executor may protect it, with a protection key
 * where the CPU has them): the sentry still writes it, and RESET_TRACE
 * rewinds it. */
static int readonly_area(struct cover* cov) {
  int key = (int)syscall(SYS_pkey_alloc, 0, 0);  /* -1 without protection keys: the default key */
  int ok = syscall(SYS_pkey_mprotect, cov->data, cov->size, PROT_READ, key) == 0;
  uint64_t before = count(cov->data);
  (void)read(-1, NULL, 0);
  uint64_t after = count(cov->data);
  ok &= after > before;
  ok &= ioctl(cov->fd, KCOV_RESET_TRACE, 0) == 0;
  ok &= count(cov->data) > 0 && count(cov->data) < after;  /* rewound; then the ioctl's own return path */
  ok &= syscall(SYS_pkey_mprotect, cov->data, cov->size, PROT_READ | PROT_WRITE, key) == 0;
  if (key >= 0) syscall(SYS_pkey_free, key);
  return ok;
}

static void wait_flag(int* flag) {
  while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) sched_yield();
}

static void* worker_thread(void* p) {
  struct worker* w = p;
  struct cover* cov = &covers[w->index];
  w->enable_result = ioctl(cov->fd, KCOV_ENABLE, w->mode);
  w->enable_errno = errno;
  __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
  /* The main thread resets this area (cover_reset(&th->cov)) while we wait. */
  wait_flag(&w->go);
  w->after_reset = count(cov->data);
  (void)read(-1, NULL, 0);
  (void)ioctl(-1, 0, 0);
  w->own = count(cov->data);
  int ok = 1;
  if (w->mode == KCOV_TRACE_PC)
    for (uint64_t i = 1; i <= w->own && i < cov->size / 8; i++)
      ok &= cov->data[i] >= 0xffffffff80000000ull && cov->data[i] < 0xffffffffff000000ull;
  w->pcs_in_range = ok;
  if (w->index == 0) w->readonly_ok = readonly_area(cov);
  __atomic_store_n(&w->done, 2, __ATOMIC_RELEASE);
  for (;;) pause();  /* never DISABLE: the process's exit releases the instance */
  return NULL;
}

/* Whether the kernel has comparison coverage (the executor probes for it:
 * without CONFIG_KCOV_ENABLE_COMPARISONS, or under ukcov's counters
 * backend, KCOV_ENABLE with KCOV_TRACE_CMP answers ENOTSUPP). */
static int cmp_supported = 1;

static void probe_comparisons(void) {
  struct cover probe;
  if (cover_open(&probe, kCoverFd - 2, 1024) != 0) return;
  if (ioctl(probe.fd, KCOV_ENABLE, KCOV_TRACE_CMP) == 0) {
    ioctl(probe.fd, KCOV_DISABLE, 0);
  } else if (errno == 524) {
    cmp_supported = 0;
  }
  close(probe.fd);
}

/* Returns a bit mask of failed steps (0: all good). */
static int run_program(int round) {
  static struct worker workers[kMaxThreads];
  int bad = 0;
  for (int i = 0; i < kMaxThreads; i++) {
    memset(&workers[i], 0, sizeof workers[i]);
    workers[i].index = i;
    workers[i].mode = (i + round) % 2 && cmp_supported ? KCOV_TRACE_CMP : KCOV_TRACE_PC;
    if (pthread_create(&workers[i].tid, NULL, worker_thread, &workers[i]) != 0) return 1;
  }
  for (int i = 0; i < kMaxThreads; i++) {
    while (__atomic_load_n(&workers[i].done, __ATOMIC_ACQUIRE) < 1) sched_yield();
    if (workers[i].enable_result != 0) {
      fprintf(stderr, "round %d: thread %d: ENABLE failed, errno %d\n", round, i, workers[i].enable_errno);
      bad |= 2;
    }
  }
  /* Another thread's area, reset from here; then each worker's syscalls. */
  for (int i = 0; i < kMaxThreads; i++) {
    reset(covers[i].data);
    __atomic_store_n(&workers[i].go, 1, __ATOMIC_RELEASE);
  }
  for (int i = 0; i < kMaxThreads; i++) {
    while (__atomic_load_n(&workers[i].done, __ATOMIC_ACQUIRE) < 2) sched_yield();
    if (workers[i].after_reset != 0) bad |= 4;
    if (workers[i].own == 0 || !workers[i].pcs_in_range) bad |= 8;
  }
  if (!workers[0].readonly_ok) bad |= 16;
  /* This thread is not enabled: its syscalls go to no area. */
  uint64_t before = count(covers[0].data);
  (void)read(-1, NULL, 0);
  if (count(covers[0].data) != before) bad |= 32;
  return bad;
}

int main(void) {
  int probe = open("/sys/kernel/debug/kcov", O_RDWR);
  if (probe < 0 && errno == ENOENT) {
    fprintf(stderr, "kcov_executor: no kcov here (ENOENT)\n");
    return 77;
  }
  close(probe);
  enable_after_waitpid();
  probe_comparisons();
  fork_server_setup();
  for (int round = 0; round < ROUNDS; round++) {
    pid_t pid = fork();
    if (pid == 0) _exit(run_program(round));
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      printf("round %d: failed steps 0x%x\n", round, WEXITSTATUS(status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  /* The children's work done in the background (their tasks' exits) was
   * collected under the common handle into the extra area. */
  uint64_t n = count(extra.data);
  CHECK(n > 0);
  int in_range = 1;
  for (uint64_t i = 1; i <= n && i < extra.size / 8; i++)
    in_range &= extra.data[i] >= 0xffffffff80000000ull && extra.data[i] < 0xffffffffff000000ull;
  CHECK(in_range);
  printf("kcov_executor: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
