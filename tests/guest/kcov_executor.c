/* kcov as the syzkaller executor uses it, step by step: cover fds dup2'ed to
 * fixed numbers, INIT in the fork server, the area mapped with MAP_FIXED
 * between PROT_NONE guard pages, the delayed-mmap probe (one fd mapped
 * twice), extra (remote) coverage with common_handle = procid + 1, then per
 * program a fresh child whose 32 worker threads each ENABLE an inherited fd
 * and never DISABLE, the main thread resetting the workers' areas, and the
 * next child enabling the same fds right after waitpid. Also read-only
 * areas (pkey_mprotect) with RESET_TRACE.
 * One line per check (kcov_guest.h); run on the oracle kernel and under
 * `ukcov run`, the outputs must be identical. */
#include "kcov_guest.h"

#include <linux/futex.h>
#include <linux/vhost.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define KCOV_INIT_TRACE64 _IOR('c', 1, uint64_t)

/* Linux's struct kcov_remote_arg ends in a flexible array of handles: the
 * ioctl number encodes the size of the header alone. */
struct kcov_remote_arg_1 {
  struct {
    uint32_t trace_mode, area_size, num_handles, pad;
    uint64_t common_handle;
  } head;
  uint64_t handle;
};

/* The executor's numbers. */
enum { kMaxThreads = 32, kCoverFd = 216, kExtraCoverFd = kCoverFd - 1 };
#define kCoverSize (512 << 10)
#define kExtraCoverSize (1024 << 10)
#define PAGE 4096
#define ROUNDS 12
static const int procid = 3;
/* Not a PC, not a comparison type: what a reset leaves in word 1 until the
 * owner records again. */
#define SENTINEL 0x5e5e5e5e5e5e5e5eull

struct cover {
  int fd;
  size_t size;  /* bytes */
  uint64_t* data;
};

static struct cover covers[kMaxThreads];
static struct cover extra;

static int cover_open(struct cover* cov, int fixed_fd, size_t words) {
  int fd = kcov_open();
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
  kcov_section = "fork_server";
  int all = 1;
  for (int i = 0; i < kMaxThreads; i++) all &= cover_open(&covers[i], kCoverFd + i, kCoverSize) == 0;
  EXPECT_YES("32 fds dup2'ed to 216.. and INITed with 512K words", all);
  /* The delayed-mmap feature probe: the same fd mapped twice, the second
   * mapping written. */
  struct cover probe = covers[0];
  uint64_t* first = cover_mmap(&probe);
  uint64_t* second = cover_mmap(&probe);
  EXPECT_YES("one fd mapped twice", first && second && first != second);
  if (second) {
    ((volatile char*)second)[8] = 1;
    EXPECT_YES("both mappings are the same pages", ((volatile char*)first)[8] == 1);
    ((volatile char*)second)[8] = 0;
    munmap((char*)second - PAGE, probe.size + 2 * PAGE);
  }
  if (first) munmap((char*)first - PAGE, probe.size + 2 * PAGE);

  for (int i = 0; i < kMaxThreads; i++) all &= (covers[i].data = cover_mmap(&covers[i])) != NULL;
  EXPECT_YES("32 areas mapped MAP_FIXED between guard pages", all);
  char p[5];
  perms_at((char*)covers[1].data - 1, p);
  EXPECT_YES("the page below is ---p", strcmp(p, "---p") == 0);
  perms_at(covers[1].data, p);
  EXPECT_YES("the area is rw-s", strcmp(p, "rw-s") == 0);
  perms_at((char*)covers[1].data + covers[1].size, p);
  EXPECT_YES("the page above is ---p", strcmp(p, "---p") == 0);

  /* Extra coverage: background work caused by this process tree. */
  EXPECT_CALL("INIT_TRACE of the extra-coverage fd", cover_open(&extra, kExtraCoverFd, kExtraCoverSize), "0");
  EXPECT_YES("its area mapped", (extra.data = cover_mmap(&extra)) != NULL);
  struct kcov_remote_arg_1 arg = {{.trace_mode = KCOV_TRACE_PC, .area_size = kExtraCoverSize, .num_handles = 1}, 0};
  arg.head.common_handle = (uint64_t)(procid + 1);
  arg.handle = KCOV_SUBSYSTEM_USB | (uint64_t)(procid + 1);
  EXPECT_CALL("REMOTE_ENABLE, common handle procid + 1", ioctl(extra.fd, KCOV_REMOTE_ENABLE, &arg), "0");
  if (extra.data) kcov_reset(extra.data);
}

/* A process that enabled an fd and exited has released it by the time its
 * parent's waitpid returns (Linux's kcov_task_exit runs before the exit is
 * reported): the parent's ENABLE right after never sees EBUSY. */
static void enable_after_waitpid(void) {
  kcov_section = "enable_after_waitpid";
  struct cover cov;
  EXPECT_CALL("INIT_TRACE", cover_open(&cov, kCoverFd, 1024), "0");
  int busy = 0, other = 0;
  for (int i = 0; i < 200; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(ioctl(cov.fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0 ? 0 : 1);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) other++;
    if (ioctl(cov.fd, KCOV_ENABLE, KCOV_TRACE_PC) != 0) {
      busy++;
      continue;
    }
    if (ioctl(cov.fd, KCOV_DISABLE, 0) != 0) other++;
  }
  EXPECT_YES("200 children ENABLEd and exited", other == 0);
  EXPECT_YES("the parent's ENABLE right after each waitpid worked", busy == 0);
  close(cov.fd);
}

/* ---- one program, in a child of the fork server ---- */

struct worker {
  pthread_t tid;
  pid_t os_tid;
  int index, mode;
  int enable_result;
  int go, done;
  int own, rewound, pcs_in_range;
};

/* The executor's event_wait: a futex the main thread wakes. */
static void wait_flag(int* flag) {
  while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) syscall(SYS_futex, flag, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}
static void set_flag(int* flag) {
  __atomic_store_n(flag, 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, flag, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void* worker_thread(void* p) {
  struct worker* w = p;
  struct cover* cov = &covers[w->index];
  w->os_tid = (pid_t)syscall(SYS_gettid);
  w->enable_result = ioctl(cov->fd, KCOV_ENABLE, w->mode);
  __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
  /* The main thread resets this area (cover_reset(&th->cov)) while we wait. */
  wait_flag(&w->go);
  (void)read(-1, NULL, 0);
  (void)ioctl(-1, 0, 0);
  uint64_t n = kcov_count(cov->data);
  w->own = n > 0;
  /* Recording restarted at word 1: a reset from another thread rewinds. */
  w->rewound = cov->data[1] != SENTINEL;
  int ok = 1, types_ok;
  if (w->mode == KCOV_TRACE_PC)
    for (uint64_t i = 1; i <= n && i < cov->size / 8; i++) ok &= kcov_pc_in_text(cov->data[i]);
  else
    kcov_check_cmp_records(cov->data, cov->size / 8, n, &types_ok, &ok);
  w->pcs_in_range = ok && (w->mode == KCOV_TRACE_PC || types_ok);
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
  } else if (errno == ENOTSUPP) {
    cmp_supported = 0;
  }
  close(probe.fd);
}

/* The executor's read-only mode: areas protected (with a protection key
 * where the CPU has them), reset by KCOV_RESET_TRACE, which a kernel
 * without the 2025 series answers with ENOTTY (the executor then maps
 * read-write). */
static void readonly_area(void) {
  struct cover cov;
  if (cover_open(&cov, kCoverFd - 3, 1024) != 0 || !(cov.data = cover_mmap(&cov))) return;
  if (ioctl(cov.fd, KCOV_RESET_TRACE, 0) == -1 && errno == ENOTTY) {
    kcov_absent("readonly_area");
  } else {
    kcov_section = "readonly_area";
    int key = (int)syscall(SYS_pkey_alloc, 0, 0); /* -1 without protection keys: the default key */
    EXPECT_CALL("pkey_mprotect PROT_READ", syscall(SYS_pkey_mprotect, cov.data, cov.size, PROT_READ, key), "0");
    EXPECT_CALL("ENABLE", ioctl(cov.fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
    uint64_t before = kcov_count(cov.data);
    (void)read(-1, NULL, 0);
    uint64_t after = kcov_count(cov.data);
    EXPECT_YES("the kernel writes the read-only area", after > before);
    int reset = ioctl(cov.fd, KCOV_RESET_TRACE, 0);
    uint64_t rewound = kcov_count(cov.data); /* before printing: a traced write */
    EXPECT_CALL("RESET_TRACE", reset, "0");
    EXPECT_YES("rewound, then the ioctl's own return path", rewound > 0 && rewound < after);
    EXPECT_CALL("DISABLE", ioctl(cov.fd, KCOV_DISABLE, 0), "0");
    EXPECT_CALL("pkey_mprotect back", syscall(SYS_pkey_mprotect, cov.data, cov.size, PROT_READ | PROT_WRITE, key), "0");
    if (key >= 0) syscall(SYS_pkey_free, key);
  }
  munmap((char*)cov.data - PAGE, cov.size + 2 * PAGE);
  close(cov.fd);
}

/* One program, in a child of the fork server; prints its own lines and
 * exits with the number of failed checks. */
static int run_program(int round) {
  static struct worker workers[kMaxThreads];
  char section[32];
  snprintf(section, sizeof section, "round %d", round);
  kcov_section = section;
  /* Background work on behalf of this process (see kcov_remote.c): a vhost
   * device owned here, where the kernel has one; this process's exit. */
  int vhost = open("/dev/vhost-vsock", O_RDWR);
  if (vhost >= 0) ioctl(vhost, VHOST_SET_OWNER);
  int created = 1;
  for (int i = 0; i < kMaxThreads; i++) {
    memset(&workers[i], 0, sizeof workers[i]);
    workers[i].index = i;
    workers[i].mode = (i + round) % 2 && cmp_supported ? KCOV_TRACE_CMP : KCOV_TRACE_PC;
    created &= pthread_create(&workers[i].tid, NULL, worker_thread, &workers[i]) == 0;
  }
  EXPECT_YES("32 worker threads", created);
  if (!created) return kcov_failed;
  int enabled = 1;
  for (int i = 0; i < kMaxThreads; i++) {
    while (__atomic_load_n(&workers[i].done, __ATOMIC_ACQUIRE) < 1) sched_yield();
    enabled &= workers[i].enable_result == 0;
  }
  EXPECT_YES("each ENABLEd its inherited fd (PC and CMP alternating)", enabled);
  /* Another thread's area, reset from here while that thread sleeps;
   * then each worker's syscalls. */
  int asleep = 1;
  for (int i = 0; i < kMaxThreads; i++) {
    asleep &= kcov_wait_blocked(getpid(), workers[i].os_tid, SYS_futex);
    covers[i].data[1] = SENTINEL;
    kcov_reset(covers[i].data);
    set_flag(&workers[i].go);
  }
  EXPECT_YES("each worker sleeps in its futex wait", asleep);
  int own = 1, rewound = 1, in_range = 1;
  for (int i = 0; i < kMaxThreads; i++) {
    while (__atomic_load_n(&workers[i].done, __ATOMIC_ACQUIRE) < 2) sched_yield();
    own &= workers[i].own;
    rewound &= workers[i].rewound;
    in_range &= workers[i].pcs_in_range;
  }
  EXPECT_YES("a reset from the main thread rewinds each worker's area", rewound);
  EXPECT_YES("each worker's calls are in its own area", own);
  EXPECT_YES("every PC is in the kernel text range, every comparison type at most 7", in_range);
  /* This thread is not enabled: its syscalls go to no area. */
  int isolated = 1;
  for (int i = 0; i < kMaxThreads; i++)
    if (workers[i].mode == KCOV_TRACE_PC) {
      isolated &= kcov_wait_blocked(getpid(), workers[i].os_tid, SYS_pause);
      kcov_reset(covers[i].data);
    }
  (void)read(-1, NULL, 0);
  for (int i = 0; i < kMaxThreads; i++) {
    if (workers[i].mode != KCOV_TRACE_PC) continue;
    isolated &= kcov_holds_no_read(covers[i].data, covers[i].size / 8);
  }
  EXPECT_YES("the main thread's read(-1) is in no worker's area", isolated);
  return kcov_failed;
}

int main(void) {
  kcov_section = "setup";
  EXPECT_YES("read(-1)'s PCs, single- and multi-threaded, each twice the same", kcov_measure_read());
  enable_after_waitpid();
  probe_comparisons();
  readonly_area();
  fork_server_setup();
  for (int round = 0; round < ROUNDS; round++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      kcov_failed = 0;
      _exit(run_program(round));
    }
    int status;
    kcov_section = "fork_server";
    char what[32];
    snprintf(what, sizeof what, "exit %d", waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    char name[48];
    snprintf(name, sizeof name, "round %d: the program's checks", round);
    kcov_line(name, what, "exit 0");
  }
  /* The programs' background work (see run_program) was collected under
   * the common handle into the extra area. */
  uint64_t n = extra.data ? kcov_count(extra.data) : 0;
  for (int i = 0; i < 2000 && n == 0; i++) {
    usleep(1000);
    n = kcov_count(extra.data);
  }
  EXPECT_YES("the programs' background work is in the extra area", n > 0);
  int in_range = 1;
  for (uint64_t i = 1; i <= n && i < extra.size / 8; i++) in_range &= kcov_pc_in_text(extra.data[i]);
  EXPECT_YES("every PC is in the kernel text range", in_range);
  return kcov_summary("kcov_executor");
}
