/* Shared by the kcov guest suites: the Linux ABI's numbers, and the output
 * that tests/oracle/run_kcov_diff.sh compares between a real Linux kernel
 * with kcov (the oracle) and `ukcov run`, line for line.
 *
 * Every check prints one line, "section: case: observed", where the
 * observation is host-independent: an errno name, "yes"/"no" for a property,
 * never an address or a count. An observation that differs from the suite's
 * own expectation gets " FAIL (expected ...)" appended, so a wrong
 * expectation shows on the oracle too. A section whose feature the kernel
 * lacks prints "section: not in this kernel" once (tests/oracle/exceptions
 * lists where that may differ between the two sides, and why).
 *
 * Linux records in a thread's buffer everything its task context runs,
 * including return-to-user work after a context switch (FPU restore) and page
 * faults. So lines never assume a buffer holds exactly one call's PCs: they
 * compare sets of PCs ("holds none of read(-1)'s PCs") and take a call's
 * PCs from samples that agree (kcov_stable_trace). */
#ifndef UKCOV_TESTS_GUEST_KCOV_GUEST_H_
#define UKCOV_TESTS_GUEST_KCOV_GUEST_H_

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
#include <unistd.h>

#define KCOV_PATH "/sys/kernel/debug/kcov"
#define KCOV_DIR "/sys/kernel/debug"
#define KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define KCOV_ENABLE _IO('c', 100)
#define KCOV_DISABLE _IO('c', 101)
#define KCOV_REMOTE_ENABLE _IOW('c', 102, struct kcov_remote_arg)
#define KCOV_UNIQUE_ENABLE _IOW('c', 103, unsigned long)
#define KCOV_RESET_TRACE _IO('c', 104)
#define KCOV_TRACE_PC 0
#define KCOV_TRACE_CMP 1
#define KCOV_SUBSYSTEM_COMMON (0x00ull << 56)
#define KCOV_SUBSYSTEM_USB (0x01ull << 56)
#define ENOTSUPP 524

struct kcov_remote_arg {
  uint32_t trace_mode, area_size, num_handles, pad;
  uint64_t common_handle;
  uint64_t handles[];
};

/* syzkaller's amd64 kernel text range: a PC outside it voids a call's cover. */
static inline int kcov_pc_in_text(uint64_t pc) { return pc >= 0xffffffff80000000ull && pc < 0xffffffffff000000ull; }

static inline uint64_t kcov_count(const uint64_t* area) { return __atomic_load_n(&area[0], __ATOMIC_ACQUIRE); }
static inline void kcov_reset(uint64_t* area) { __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED); }

static inline int kcov_open(void) { return open(KCOV_PATH, O_RDWR); }

/* An fd INITed with `words` and mapped read-write; -1 on any failure. */
static inline int kcov_ready(size_t words, uint64_t** area) {
  int fd = kcov_open();
  if (fd < 0) return -1;
  void* p = MAP_FAILED;
  if (ioctl(fd, KCOV_INIT_TRACE, words) == 0) p = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    close(fd);
    return -1;
  }
  *area = p;
  return fd;
}

/* Waits until thread `tid` of process `pid` is blocked in syscall `nr`
 * (/proc/PID/task/TID/syscall names it only while the thread sleeps).
 * Another thread's area may be reset only then: Linux's recording is not
 * atomic against a concurrent reset (it reads the count, then writes
 * count + 1), so a reset while the owner runs can be lost. Returns 0 after
 * about 10 s without seeing it. */
static inline int kcov_wait_blocked(pid_t pid, pid_t tid, long nr) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
  for (int i = 0; i < 1000000; i++) {
    FILE* f = fopen(path, "r");
    long now = -1;
    if (f) {
      if (fscanf(f, "%ld", &now) != 1) now = -1; /* "running" */
      fclose(f);
    }
    if (now == nr) return 1;
    usleep(10);
  }
  return 0;
}

/* ---- the line format ---- */

static const char* kcov_section = "";
static int kcov_failed;

static inline const char* kcov_errname(int e) {
  switch (e) {
#define E(x) \
  case x:    \
    return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EBADF) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(ENOTDIR)
    E(EISDIR) E(EINVAL) E(EMFILE) E(ENOTTY) E(ESPIPE) E(ENOSYS) E(EOPNOTSUPP) E(EAGAIN) E(E2BIG) E(EOVERFLOW)
#undef E
    case ENOTSUPP: return "ENOTSUPP";
    default: return "E?";
  }
}

/* One line: the observation, and FAIL when it is not the expected one. */
static inline void kcov_line(const char* name, const char* observed, const char* expected) {
  int ok = strcmp(observed, expected) == 0;
  if (!ok) kcov_failed++;
  printf("%s: %s: %s%s%s%s\n", kcov_section, name, observed, ok ? "" : " FAIL (expected ", ok ? "" : expected,
         ok ? "" : ")");
  fflush(stdout);
}

/* A call's result as "0", "ok" (>= 0 but not 0, e.g. an fd) or "-1 ENAME". */
static inline const char* kcov_result(long r, int e, char buf[32]) {
  if (r == 0) return "0";
  if (r > 0) return "ok";
  snprintf(buf, 32, "-1 %s", kcov_errname(e));
  return buf;
}

/* EXPECT_CALL(name, call, "0" | "ok" | "-1 EINVAL" ...) */
#define EXPECT_CALL(name, call, expected)                   \
  do {                                                      \
    errno = 0;                                              \
    long r_ = (long)(call);                                 \
    char b_[32];                                            \
    kcov_line(name, kcov_result(r_, errno, b_), expected);  \
  } while (0)
/* mmap-style calls: MAP_FAILED is -1. */
#define EXPECT_MAP(name, call, expected)                                         \
  do {                                                                           \
    errno = 0;                                                                   \
    void* p_ = (call);                                                           \
    char b_[32];                                                                 \
    kcov_line(name, kcov_result(p_ == MAP_FAILED ? -1 : 0, errno, b_), expected); \
  } while (0)
/* A property: "yes" expected. */
#define EXPECT_YES(name, cond) kcov_line(name, (cond) ? "yes" : "no", "yes")

static inline void kcov_absent(const char* section) {
  printf("%s: not in this kernel\n", section);
  fflush(stdout);
}

/* The last line, and the exit status. */
static inline int kcov_summary(const char* suite) {
  if (kcov_failed)
    printf("%s: %d checks failed\n", suite, kcov_failed);
  else
    printf("%s: all checks passed\n", suite);
  return kcov_failed ? 1 : 0;
}

/* ---- sets of PCs ---- */

struct kcov_pcs {
  size_t n;
  uint64_t* v; /* sorted, distinct */
};

static inline int kcov_cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

/* The distinct PCs of area[1..count] (count capped by the area's words). */
static inline struct kcov_pcs kcov_pcs_of(const uint64_t* area, size_t words) {
  uint64_t n = kcov_count(area);
  if (n > words - 1) n = words - 1;
  struct kcov_pcs s = {0, malloc((n ? n : 1) * 8)};
  memcpy(s.v, &area[1], n * 8);
  qsort(s.v, n, 8, kcov_cmp_u64);
  for (size_t i = 0; i < n; i++)
    if (s.n == 0 || s.v[s.n - 1] != s.v[i]) s.v[s.n++] = s.v[i];
  return s;
}

static inline int kcov_pcs_has(const struct kcov_pcs* s, uint64_t pc) {
  return bsearch(&pc, s->v, s->n, 8, kcov_cmp_u64) != NULL;
}
/* How many PCs of `of` are in `in`. */
static inline size_t kcov_pcs_common(const struct kcov_pcs* of, const struct kcov_pcs* in) {
  size_t k = 0;
  for (size_t i = 0; i < of->n; i++) k += kcov_pcs_has(in, of->v[i]);
  return k;
}
static inline int kcov_pcs_equal(const struct kcov_pcs* a, const struct kcov_pcs* b) {
  return a->n == b->n && memcmp(a->v, b->v, a->n * 8) == 0;
}
static inline int kcov_pcs_all_in_text(const struct kcov_pcs* s) {
  for (size_t i = 0; i < s->n; i++)
    if (!kcov_pc_in_text(s->v[i])) return 0;
  return 1;
}
static inline void kcov_pcs_free(struct kcov_pcs* s) {
  free(s->v);
  s->v = NULL;
  s->n = 0;
}

/* The PCs one call records on this thread's enabled area, taken when two
 * samples in a row agree (Linux adds return-to-user work after a context
 * switch to some samples; up to 20 tries). `undo`, if not NULL, runs after
 * each sample is taken, to give the next one the same state. Returns an
 * empty set when no two agreed. */
static inline struct kcov_pcs kcov_stable_trace_undo(uint64_t* area, size_t words, void (*call)(void),
                                                     void (*undo)(void)) {
  struct kcov_pcs last = {0, NULL};
  for (int i = 0; i < 20; i++) {
    kcov_reset(area);
    call();
    struct kcov_pcs now = kcov_pcs_of(area, words);
    if (undo) undo();
    if (last.v && kcov_pcs_equal(&last, &now) && now.n > 0) {
      kcov_pcs_free(&last);
      return now;
    }
    kcov_pcs_free(&last);
    last = now;
  }
  kcov_pcs_free(&last);
  return (struct kcov_pcs){0, malloc(8)};
}
static inline struct kcov_pcs kcov_stable_trace(uint64_t* area, size_t words, void (*call)(void)) {
  return kcov_stable_trace_undo(area, words, call, NULL);
}

static inline void kcov_bad_read(void) { (void)read(-1, NULL, 0); }

/* The first n comparison records {type, arg1, arg2, pc} of an area: whether
 * every type is at most 7 (syzkaller aborts otherwise) and every PC is in
 * the kernel text range. */
static inline void kcov_check_cmp_records(const uint64_t* area, size_t words, uint64_t n, int* types_ok, int* pcs_ok) {
  *types_ok = *pcs_ok = 1;
  for (uint64_t i = 0; i < n && 4 * i + 4 < words; i++) {
    *types_ok &= area[1 + 4 * i] <= 7;
    *pcs_ok &= kcov_pc_in_text(area[4 + 4 * i]);
  }
}

/* The yardstick for "this area holds (none of) read(-1)'s PCs". Linux's fd
 * lookup takes another path once threads share the file table
 * (__fget_light), so it is measured both ways: `core` holds the PCs every
 * read(-1) records, `any` those one may record. */
static struct kcov_pcs kcov_read_core, kcov_read_any;

static inline void* kcov_block_on_pipe(void* fd) {
  char c;
  (void)read(*(int*)fd, &c, 1);
  return NULL;
}

/* Measures the yardstick; call while the process has one thread. Returns
 * whether both samples were stable. */
static inline int kcov_measure_read(void) {
  const size_t words = 64 << 10;
  uint64_t* area;
  int fd = kcov_ready(words, &area), ok = 0;
  if (fd < 0) return 0;
  if (ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0) {
    struct kcov_pcs single = kcov_stable_trace(area, words, kcov_bad_read);
    int p[2];
    pthread_t t;
    if (pipe(p) == 0 && pthread_create(&t, NULL, kcov_block_on_pipe, &p[0]) == 0) {
      struct kcov_pcs multi = kcov_stable_trace(area, words, kcov_bad_read);
      (void)write(p[1], "x", 1);
      pthread_join(t, NULL);
      close(p[0]);
      close(p[1]);
      ok = single.n > 0 && multi.n > 0;
      kcov_read_core = (struct kcov_pcs){0, malloc((single.n + 1) * 8)};
      kcov_read_any = (struct kcov_pcs){0, malloc((single.n + multi.n + 1) * 8)};
      for (size_t i = 0; i < single.n; i++) {
        if (kcov_pcs_has(&multi, single.v[i])) kcov_read_core.v[kcov_read_core.n++] = single.v[i];
        kcov_read_any.v[kcov_read_any.n++] = single.v[i];
      }
      for (size_t i = 0; i < multi.n; i++)
        if (!kcov_pcs_has(&single, multi.v[i])) kcov_read_any.v[kcov_read_any.n++] = multi.v[i];
      qsort(kcov_read_any.v, kcov_read_any.n, 8, kcov_cmp_u64);
      kcov_pcs_free(&multi);
    }
    kcov_pcs_free(&single);
    ioctl(fd, KCOV_DISABLE, 0);
  }
  munmap(area, words * 8);
  close(fd);
  return ok && kcov_read_core.n > 0;
}

/* Whether area[1..count] holds every PC of read(-1)'s core / none it may
 * record. */
static inline int kcov_holds_read(const uint64_t* area, size_t words) {
  struct kcov_pcs s = kcov_pcs_of(area, words);
  int all = kcov_read_core.n > 0 && kcov_pcs_common(&kcov_read_core, &s) == kcov_read_core.n;
  kcov_pcs_free(&s);
  return all;
}
static inline int kcov_holds_no_read(const uint64_t* area, size_t words) {
  struct kcov_pcs s = kcov_pcs_of(area, words);
  int none = kcov_pcs_common(&kcov_read_any, &s) == 0;
  kcov_pcs_free(&s);
  return none;
}

#endif /* UKCOV_TESTS_GUEST_KCOV_GUEST_H_ */
