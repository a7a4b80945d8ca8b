/* The kcov file as Linux defines it, checked from inside an unmodified
 * program: errnos of every operation, mappings, fd sharing, threads, fork,
 * close-after-enable, thread-exit release, CMP, unique and reset modes, bad
 * pointers. Prints one line per failed check and "kcov_semantics: N passed,
 * M failed"; exits 0 when none failed, 77 when the kernel has no kcov. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define KCOV_ENABLE _IO('c', 100)
#define KCOV_DISABLE _IO('c', 101)
#define KCOV_REMOTE_ENABLE _IOW('c', 102, struct kcov_remote_arg)
#define KCOV_UNIQUE_ENABLE _IOW('c', 103, unsigned long)
#define KCOV_RESET_TRACE _IO('c', 104)
#define KCOV_TRACE_PC 0
#define KCOV_TRACE_CMP 1
#define ENOTSUPP 524

struct kcov_remote_arg {
  uint32_t trace_mode, area_size, num_handles, pad;
  uint64_t common_handle;
  uint64_t handles[];
};

#define WORDS (64 << 10)
#define BYTES (WORDS * 8)

static int passed, failed;
#define CHECK(cond)                                                    \
  do {                                                                 \
    if (cond) {                                                        \
      passed++;                                                        \
    } else {                                                           \
      failed++;                                                        \
      printf("FAIL %s:%d: %s (errno %d)\n", __func__, __LINE__, #cond, errno); \
    }                                                                  \
  } while (0)
/* A call that must fail with `e`. */
#define FAILS(call, e) CHECK((call) == -1 && errno == (e))

static int open_kcov(void) { return open("/sys/kernel/debug/kcov", O_RDWR); }

static uint64_t* map_area(int fd) {
  void* p = mmap(NULL, BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? NULL : (uint64_t*)p;
}

static uint64_t count(const uint64_t* area) { return __atomic_load_n(&area[0], __ATOMIC_RELAXED); }
static void reset(uint64_t* area) { __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED); }

/* An fd set up as the syzkaller executor and kcov.rst do, not yet enabled. */
static int ready_fd(uint64_t** area) {
  int fd = open_kcov();
  if (fd < 0 || ioctl(fd, KCOV_INIT_TRACE, WORDS) != 0) return -1;
  *area = map_area(fd);
  return *area ? fd : -1;
}

static void file_operations(void) {
  int fd = open_kcov();
  CHECK(fd >= 0);
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 && st.st_size == 0);
  CHECK(stat("/sys/kernel/debug/kcov", &st) == 0 && S_ISREG(st.st_mode));
  char c;
  FAILS(read(fd, &c, 1), EINVAL);
  FAILS(write(fd, &c, 1), EINVAL);
  FAILS(lseek(fd, 0, SEEK_SET), ESPIPE);
  FAILS(pread(fd, &c, 1, 0), ESPIPE);
  FAILS(pwrite(fd, &c, 1, 0), ESPIPE);
  FAILS(pread(fd, &c, 1, -1), EINVAL);
  struct iovec iov = {&c, 1};
  FAILS(readv(fd, &iov, 1), EINVAL);
  FAILS(writev(fd, &iov, 1), EINVAL);
  FAILS(fsync(fd), EINVAL);
  FAILS(open("/sys/kernel/debug/kcov/", O_RDWR), ENOTDIR);
  FAILS(open("/sys/kernel/debug/kcov", O_RDWR | O_DIRECTORY), ENOTDIR);
  FAILS(open("/sys/kernel/debug/kcov", O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
  int cloexec = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
  CHECK(cloexec >= 0 && (fcntl(cloexec, F_GETFD) & FD_CLOEXEC));
  close(cloexec);
  /* Its /proc/self/fd link opens the device anew: a new instance (Linux's
   * kcov_open), not the one behind fd. */
  CHECK(ioctl(fd, KCOV_INIT_TRACE, WORDS) == 0);
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  int again = open(link, O_RDWR);
  CHECK(again >= 0 && ioctl(again, KCOV_INIT_TRACE, WORDS) == 0);
  close(again);
  int rdonly = open("/sys/kernel/debug/kcov", O_RDONLY);
  FAILS(read(rdonly, &c, 1), EINVAL);
  FAILS(write(rdonly, &c, 1), EBADF);
  close(rdonly);
  close(fd);
}

static void ioctl_and_mmap_errors(void) {
  int fd = open_kcov();
  FAILS(ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), EINVAL);
  FAILS(ioctl(fd, 0x1234, 0), ENOTTY);
  CHECK(mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EINVAL);
  FAILS(ioctl(fd, KCOV_INIT_TRACE, 1), EINVAL);
  FAILS(ioctl(fd, KCOV_INIT_TRACE, (unsigned long)-1), EINVAL);
  CHECK(ioctl(fd, KCOV_INIT_TRACE, WORDS) == 0);
  FAILS(ioctl(fd, KCOV_INIT_TRACE, WORDS), EBUSY);
  CHECK(mmap(NULL, BYTES / 2, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EINVAL);
  CHECK(mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 4096) == MAP_FAILED && errno == EINVAL);
  CHECK(mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 100) == MAP_FAILED && errno == EINVAL);
  FAILS(ioctl(fd, KCOV_ENABLE, 7), EINVAL);
  FAILS(ioctl(fd, KCOV_DISABLE, 0), EINVAL);
  FAILS(ioctl(fd, KCOV_RESET_TRACE, 0), EINVAL);
  FAILS(ioctl(fd, KCOV_REMOTE_ENABLE, NULL), EFAULT);
  FAILS(ioctl(fd, KCOV_REMOTE_ENABLE, (void*)16), EFAULT);
  struct stat* bad = (struct stat*)8;
  FAILS(fstat(fd, bad), EFAULT);
  close(fd);
  /* Bad fds everywhere. */
  FAILS(read(-1, NULL, 0), EBADF);
  FAILS(ioctl(-1, KCOV_ENABLE, 0), EBADF);
  FAILS(ioctl(1000000, KCOV_ENABLE, 0), EBADF);
  CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, -1, 0) == MAP_FAILED && errno == EBADF);
  FAILS(lseek(-5, 0, SEEK_SET), EBADF);
  FAILS(fsync(-1), EBADF);
  struct stat* null_stat = NULL;
  FAILS(fstat(-1, null_stat), EBADF);
  FAILS(open((const char*)8, O_RDONLY), EFAULT);
}

static void trace_pc(void) {
  uint64_t* area;
  int fd = ready_fd(&area);
  CHECK(fd >= 0);
  CHECK(ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0);
  reset(area);
  FAILS(read(-1, NULL, 0), EBADF);
  uint64_t n = count(area);
  CHECK(n > 0);
  int in_range = 1;
  for (uint64_t i = 1; i <= n; i++) in_range &= area[i] >= 0xffffffff80000000ull && area[i] < 0xffffffffff000000ull;
  CHECK(in_range);
  /* The same syscall twice: the same PCs. */
  uint64_t first[64];
  memcpy(first, &area[1], (n < 64 ? n : 64) * 8);
  reset(area);
  (void)read(-1, NULL, 0);
  CHECK(count(area) == n && memcmp(first, &area[1], (n < 64 ? n : 64) * 8) == 0);
  /* A second mapping of the same fd is the same memory; so is a read-only one. */
  uint64_t* again = map_area(fd);
  uint64_t* ro = mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 0);
  CHECK(again && ro != MAP_FAILED && again[0] == area[0] && ro[1] == area[1]);
  /* dup shares the instance: ENABLE through it is EINVAL, DISABLE works. */
  int dupfd = dup(fd);
  FAILS(ioctl(dupfd, KCOV_ENABLE, KCOV_TRACE_PC), EINVAL);
  CHECK(ioctl(dupfd, KCOV_DISABLE, 0) == 0);
  reset(area);
  (void)read(-1, NULL, 0);
  CHECK(count(area) == 0);  /* disabled: nothing more */
  /* Re-enable in CMP mode without a new mmap. A kernel without comparison
   * coverage (Linux without CONFIG_KCOV_ENABLE_COMPARISONS; ukcov's counters
   * backend) answers ENOTSUPP and stays disabled. */
  int cmp = ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP);
  if (cmp == -1 && errno == ENOTSUPP) {
    FAILS(ioctl(fd, KCOV_DISABLE, 0), EINVAL);
  } else {
    CHECK(cmp == 0);
    reset(area);
    (void)read(-1, NULL, 0);
    uint64_t records = count(area);
    int types_ok = 1;
    for (uint64_t i = 0; i < records; i++) types_ok &= area[1 + 4 * i] <= 7;
    CHECK(types_ok);
    CHECK(ioctl(fd, KCOV_DISABLE, 0) == 0);
  }
  munmap(again, BYTES);
  munmap(ro, BYTES);
  munmap(area, BYTES);
  close(dupfd);
  close(fd);
}

static void reset_and_unique(void) {
  uint64_t* area;
  int fd = ready_fd(&area);
  CHECK(ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0);
  (void)read(-1, NULL, 0);
  CHECK(ioctl(fd, KCOV_RESET_TRACE, 0) == 0);
  uint64_t after = count(area);
  CHECK(after > 0);  /* the ioctl's own return path is traced */
  FAILS(ioctl(fd, KCOV_RESET_TRACE, 1), EINVAL);
  CHECK(ioctl(fd, KCOV_DISABLE, 0) == 0);
  /* Unique mode: a bitmap, then the trace; a repeated syscall adds nothing. */
  int r = ioctl(fd, KCOV_UNIQUE_ENABLE, 4096);
  if (r == -1 && errno == ENOTSUPP) {
    CHECK(1);  /* a build without guards, as Linux without CONFIG_KCOV_UNIQUE */
  } else {
    CHECK(r == 0);
    uint64_t* trace = area + 4096;
    memset(area, 0, 4096 * 8);
    reset(trace);
    for (int i = 0; i < 3; i++) (void)read(-1, NULL, 0);
    uint64_t n = count(trace);
    for (int i = 0; i < 100; i++) (void)read(-1, NULL, 0);
    CHECK(n > 0 && count(trace) == n);
    CHECK(ioctl(fd, KCOV_RESET_TRACE, 0) == 0);
    CHECK(count(trace) > 0 && count(trace) < n + 10);
    CHECK(ioctl(fd, KCOV_DISABLE, 0) == 0);
  }
  munmap(area, BYTES);
  close(fd);
}

/* In a thread of its own: after the close it owns an instance it cannot
 * disable, until it exits (as in Linux). */
static void* close_after_enable_thread(void* unused) {
  (void)unused;
  uint64_t* area;
  int fd = ready_fd(&area);
  CHECK(ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0);
  CHECK(close(fd) == 0);  /* kcovfuzzer closes right after ENABLE */
  reset(area);
  (void)read(-1, NULL, 0);
  CHECK(count(area) > 0);
  munmap(area, BYTES);
  return NULL;
}

static void close_after_enable(void) {
  pthread_t t;
  pthread_create(&t, NULL, close_after_enable_thread, NULL);
  pthread_join(t, NULL);
}

struct thread_arg {
  int fd;
  uint64_t* area;
  int enable_result, enable_errno;
  uint64_t own_count;
};

static void* enable_and_exit(void* p) {
  struct thread_arg* a = p;
  a->enable_result = ioctl(a->fd, KCOV_ENABLE, KCOV_TRACE_PC);
  a->enable_errno = errno;
  reset(a->area);
  (void)read(-1, NULL, 0);
  a->own_count = count(a->area);
  return NULL; /* exits without DISABLE */
}

static void threads(void) {
  uint64_t* area;
  int fd = ready_fd(&area);
  CHECK(ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0);
  /* Another thread cannot enable an fd this thread enabled. */
  struct thread_arg a = {fd, area};
  pthread_t t;
  pthread_create(&t, NULL, enable_and_exit, &a);
  pthread_join(t, NULL);
  CHECK(a.enable_result == -1 && a.enable_errno == EINVAL);
  CHECK(a.own_count == 0);  /* that thread's syscalls are not ours */
  /* Nor disable it. */
  CHECK(ioctl(fd, KCOV_DISABLE, 0) == 0);
  /* A thread enables, exits without DISABLE: the instance is free again. */
  struct thread_arg b = {fd, area};
  pthread_create(&t, NULL, enable_and_exit, &b);
  pthread_join(t, NULL);
  CHECK(b.enable_result == 0 && b.own_count > 0);
  int enabled = -1;
  /* pthread_join returns when the thread's tid is cleared, a moment before
   * do_exit releases its kcov (in Linux as under the sentry): poll. */
  for (int i = 0; i < 1000000 && enabled != 0; i++) {
    enabled = ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC);
    if (enabled != 0) sched_yield();
  }
  CHECK(enabled == 0);
  CHECK(ioctl(fd, KCOV_DISABLE, 0) == 0);
  munmap(area, BYTES);
  close(fd);
}

#define NTHREADS 32
static volatile int stop_workers;
static void* busy_worker(void* p) {
  struct thread_arg* a = p;
  a->enable_result = ioctl(a->fd, KCOV_ENABLE, KCOV_TRACE_PC);
  while (!stop_workers) {
    reset(a->area);
    (void)read(-1, NULL, 0);
  }
  return NULL;
}

static void thirty_two_threads(void) {
  /* One idle enabled thread (this one) and 31 busy ones, each with its own
   * fd dup'ed to a fixed number as the syzkaller executor does. */
  struct thread_arg args[NTHREADS];
  pthread_t tids[NTHREADS];
  uint64_t* mine;
  int fd = ready_fd(&mine);
  CHECK(dup2(fd, 215) == 215);
  close(fd);
  CHECK(ioctl(215, KCOV_ENABLE, KCOV_TRACE_PC) == 0);
  for (int i = 1; i < NTHREADS; i++) {
    args[i].fd = ready_fd(&args[i].area);
    pthread_create(&tids[i], NULL, busy_worker, &args[i]);
  }
  /* From here this thread makes no trapped syscall: its count must stay 0
   * while the 31 others run theirs. */
  reset(mine);
  usleep(200000);
  uint64_t idle = count(mine);
  stop_workers = 1;
  int all_enabled = 1;
  for (int i = 1; i < NTHREADS; i++) {
    pthread_join(tids[i], NULL);
    all_enabled &= args[i].enable_result == 0;
    munmap(args[i].area, BYTES);
    close(args[i].fd);
  }
  CHECK(all_enabled);
  CHECK(idle == 0);
  CHECK(count(mine) == 0);
  CHECK(ioctl(215, KCOV_DISABLE, 0) == 0);
  munmap(mine, BYTES);
  close(215);
}

static void fork_inheritance(void) {
  uint64_t* area;
  int fd = ready_fd(&area);
  uint64_t* area2;
  int fd2 = ready_fd(&area2);
  CHECK(ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    /* The child starts with no kcov of its own, but the fds and mappings. */
    int ok = 1;
    ok &= ioctl(fd, KCOV_DISABLE, 0) == -1 && errno == EINVAL;
    reset(area);
    (void)read(-1, NULL, 0);
    ok &= count(area) == 0;  /* the parent's instance does not see the child */
    ok &= ioctl(fd2, KCOV_ENABLE, KCOV_TRACE_PC) == 0;
    reset(area2);
    (void)read(-1, NULL, 0);
    ok &= count(area2) > 0;
    uint64_t* child_map = map_area(fd2);  /* mapping after fork */
    ok &= child_map != NULL && child_map[0] == area2[0];
    _exit(ok ? 0 : 1);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(count(area2) > 0);
  reset(area);
  (void)read(-1, NULL, 0);
  CHECK(count(area) > 0);  /* still the parent's */
  CHECK(ioctl(fd, KCOV_DISABLE, 0) == 0);
  munmap(area, BYTES);
  munmap(area2, BYTES);
  close(fd);
  close(fd2);
}

int main(void) {
  int probe = open_kcov();
  if (probe < 0 && errno == ENOENT) {
    fprintf(stderr, "kcov_semantics: no kcov here (ENOENT)\n");
    return 77;
  }
  close(probe);
  file_operations();
  ioctl_and_mmap_errors();
  trace_pc();
  reset_and_unique();
  close_after_enable();
  threads();
  thirty_two_threads();
  fork_inheritance();
  printf("kcov_semantics: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
