/* The fuzz executor: a guest program, run under `ukcov run --tmpfs`, that
 * runs fuzz programs (program.h) with kcov collecting the sentry's PCs.
 *
 *   ukcov-fuzz-executor serve        the fork server of `ukcov fuzz`'s
 *                                    target (protocol.h)
 *   ukcov-fuzz-executor run FILE     one input, each call and its result
 *                                    printed
 *   ukcov-fuzz-executor c FILE       the input as a standalone C program
 *   ukcov-fuzz-executor seeds DIR    writes the built-in seeds
 * Not instrumented, and linked statically: a guest like any other. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "program.h"
#include "protocol.h"

void fuzz_runtime_prepare(void);
int fuzz_runtime_run(const struct fuzz_program* program, FILE* trace);
const uint64_t* fuzz_runtime_area(void);
const uint64_t* fuzz_runtime_section_area(void);
int fuzz_runtime_last_pid(void);

static int ReadFull(int fd, void* p, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = read(fd, (char*)p + done, n - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    done += (size_t)got;
  }
  return 0;
}

static int WriteFull(int fd, const void* p, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t put = write(fd, (const char*)p + done, n - done);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return -1;
    done += (size_t)put;
  }
  return 0;
}

static size_t ReadInput(const char* path, uint8_t* data, size_t max) {
  FILE* f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "ukcov-fuzz-executor: %s: %s\n", path, strerror(errno));
    exit(2);
  }
  size_t n = fread(data, 1, max, f);
  if (f != stdin) fclose(f);
  return n;
}

_Static_assert(UKCOV_FUZZ_CHECK_INVARIANTS == 0x75c1, "runtime.h's FUZZ_CHECK_INVARIANTS");

static int Serve(void) {
  struct ukcov_fuzz_shared* shared =
      mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, UKCOV_FUZZ_SHARED_FD, 0);
  if (shared == MAP_FAILED) {
    fprintf(stderr, "ukcov-fuzz-executor: the shared memory (fd %d): %s\n", UKCOV_FUZZ_SHARED_FD, strerror(errno));
    return 2;
  }
  /* The programs' processes are forks of this one: they get no view of
   * what the driver reads. */
  if (madvise(shared, sizeof *shared, MADV_DONTFORK) != 0) {
    fprintf(stderr, "ukcov-fuzz-executor: madvise(MADV_DONTFORK): %s\n", strerror(errno));
    return 2;
  }
  const int foreign_pcs = getenv("UKCOV_TEST_FOREIGN_PCS") != NULL;
  fuzz_runtime_prepare();
  const uint64_t* area = fuzz_runtime_area();
  const uint64_t* sections = fuzz_runtime_section_area();
  static struct fuzz_program program;
  uint32_t word = 0;
  if (WriteFull(UKCOV_FUZZ_STATUS_FD, &word, sizeof word) != 0) return 2;
  while (ReadFull(UKCOV_FUZZ_CONTROL_FD, &word, sizeof word) == 0) {
    /* A control word above 1 is where the next pid starts (the stability
     * test spreads the program's pids over the pid space). */
    if (word > 1) {
      int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
      char text[16];
      int n = snprintf(text, sizeof text, "%u", word);
      if (fd < 0 || write(fd, text, (size_t)n) != n) {
        fprintf(stderr, "ukcov-fuzz-executor: ns_last_pid: %s\n", strerror(errno));
        return 2;
      }
      close(fd);
    }
    uint32_t size = shared->input_size < UKCOV_FUZZ_MAX_INPUT ? shared->input_size : UKCOV_FUZZ_MAX_INPUT;
    fuzz_decode(shared->input, size, &program);
    int status = fuzz_runtime_run(&program, NULL);
    uint64_t n = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
    if (n > UKCOV_FUZZ_MAX_PCS) n = UKCOV_FUZZ_MAX_PCS;
    memcpy(shared->pcs, area + 1, n * sizeof area[0]);
    shared->section_pc = n;
    uint64_t m = __atomic_load_n(&sections[0], __ATOMIC_ACQUIRE);
    if (m > UKCOV_FUZZ_MAX_PCS - n) m = UKCOV_FUZZ_MAX_PCS - n;
    memcpy(shared->pcs + n, sections + 1, m * sizeof sections[0]);
    shared->pc_count = n + m;
    /* UKCOV_TEST_FOREIGN_PCS: two words no sentry block is (a type word of
     * a comparison record, a PC read two bytes off) after the program's,
     * for the test of ukcov fuzz's filter (tests/fuzz/fuzz_test.sh). */
    if (foreign_pcs && shared->pc_count + 2 <= UKCOV_FUZZ_MAX_PCS) {
      shared->pcs[shared->pc_count++] = 0;
      shared->pcs[shared->pc_count++] = 0x1b1effffffff8008ull;
    }
    shared->program_pid = (uint32_t)fuzz_runtime_last_pid();
    word = (uint32_t)status;
    if (WriteFull(UKCOV_FUZZ_STATUS_FD, &word, sizeof word) != 0) return 2;
  }
  return 0;
}

static int Usage(void) {
  fprintf(stderr,
          "usage: ukcov-fuzz-executor serve | run FILE | c FILE [SOURCE] | seeds DIR\n"
          "(run under `ukcov run --tmpfs /tmp/ukcov-fuzz`; `ukcov fuzz` does)\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  static uint8_t input[UKCOV_FUZZ_MAX_INPUT];
  static struct fuzz_program program;
  if (strcmp(argv[1], "serve") == 0 && argc == 2) return Serve();
  if (strcmp(argv[1], "run") == 0 && argc == 3) {
    fuzz_decode(input, ReadInput(argv[2], input, sizeof input), &program);
    fuzz_runtime_prepare();
    /* The trace's own fd, far above the program's: the program's fds 0-2
     * are /dev/null (runtime.h). */
    int trace_fd = fcntl(1, F_DUPFD_CLOEXEC, 251);
    FILE* trace = trace_fd >= 0 ? fdopen(trace_fd, "w") : NULL;
    if (trace == NULL) {
      fprintf(stderr, "ukcov-fuzz-executor: the trace's fd: %s\n", strerror(errno));
      return 2;
    }
    int status = fuzz_runtime_run(&program, trace);
    fflush(trace);
    printf("program: status 0x%x, %llu PCs, %llu in sections\n", status, (unsigned long long)fuzz_runtime_area()[0],
           (unsigned long long)fuzz_runtime_section_area()[0]);
    return 0;
  }
  if (strcmp(argv[1], "c") == 0 && (argc == 3 || argc == 4)) {
    fuzz_decode(input, ReadInput(argv[2], input, sizeof input), &program);
    fuzz_print_c(&program, argc == 4 ? argv[3] : argv[2], stdout);
    return 0;
  }
  if (strcmp(argv[1], "seeds") == 0 && argc == 3) {
    for (size_t i = 0; i < fuzz_seed_count(); i++) {
      size_t n = fuzz_seed(i, input, sizeof input);
      char path[4096];
      snprintf(path, sizeof path, "%s/seed-%02zu", argv[2], i);
      int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || WriteFull(fd, input, n) != 0) {
        fprintf(stderr, "ukcov-fuzz-executor: %s: %s\n", path, strerror(errno));
        return 1;
      }
      close(fd);
    }
    return 0;
  }
  return Usage();
}
