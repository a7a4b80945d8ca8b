/* The tmpfs workloads of bench/run.sh, timed from the guest's side: run on
 * the host's tmpfs natively and on the sentry's under `ukcov run --tmpfs`.
 * Metadata: create, stat, rename and unlink many small files. Data:
 * sequential 4 KiB writes and reads of a 16 MiB file, then random 4 KiB
 * reads. With "kcov", the thread records TRACE_PC coverage throughout (the
 * area reset before each call, as a fuzzer does).
 * Prints "workload ns_per_operation" lines, medians of 5 runs.
 * Usage: bench_tmpfs_guest DIR [kcov] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILES 1000
#define FILE_BYTES (16 << 20)
#define BLOCK 4096
#define RUNS 5

static uint64_t* area;
static inline void reset(void) {
  if (area) __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double median(double* v) {
  qsort(v, RUNS, sizeof *v, cmp);
  return v[RUNS / 2];
}

int main(int argc, char** argv) {
  if (argc < 2 || chdir(argv[1]) != 0) return 2;
  if (argc > 2 && strcmp(argv[2], "kcov") == 0) {
    int fd = open("/sys/kernel/debug/kcov", O_RDWR);
    if (fd < 0 || ioctl(fd, _IOR('c', 1, unsigned long), 1 << 20) != 0) return 77;
    area = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (area == MAP_FAILED || ioctl(fd, _IO('c', 100), 0) != 0) return 77;
  }
  double create[RUNS], stat_[RUNS], rename_[RUNS], unlink_[RUNS], seqw[RUNS], seqr[RUNS], randr[RUNS];
  char name[64], other[64];
  static char block[BLOCK];
  memset(block, 'b', sizeof block);
  for (int r = 0; r < RUNS; r++) {
    double t = now_ns();
    for (int i = 0; i < FILES; i++) {
      snprintf(name, sizeof name, "f%d", i);
      reset();
      int fd = open(name, O_CREAT | O_WRONLY | O_EXCL, 0644);
      reset();
      close(fd);
    }
    create[r] = (now_ns() - t) / FILES;  /* open + close */
    t = now_ns();
    struct stat st;
    for (int i = 0; i < FILES; i++) {
      snprintf(name, sizeof name, "f%d", i);
      reset();
      stat(name, &st);
    }
    stat_[r] = (now_ns() - t) / FILES;
    t = now_ns();
    for (int i = 0; i < FILES; i++) {
      snprintf(name, sizeof name, "f%d", i);
      snprintf(other, sizeof other, "g%d", i);
      reset();
      rename(name, other);
    }
    rename_[r] = (now_ns() - t) / FILES;
    t = now_ns();
    for (int i = 0; i < FILES; i++) {
      snprintf(other, sizeof other, "g%d", i);
      reset();
      unlink(other);
    }
    unlink_[r] = (now_ns() - t) / FILES;

    int fd = open("data", O_CREAT | O_RDWR | O_TRUNC, 0644);
    t = now_ns();
    for (int i = 0; i < FILE_BYTES / BLOCK; i++) {
      reset();
      if (write(fd, block, BLOCK) != BLOCK) return 1;
    }
    seqw[r] = (now_ns() - t) / (FILE_BYTES / BLOCK);
    lseek(fd, 0, SEEK_SET);
    t = now_ns();
    for (int i = 0; i < FILE_BYTES / BLOCK; i++) {
      reset();
      if (read(fd, block, BLOCK) != BLOCK) return 1;
    }
    seqr[r] = (now_ns() - t) / (FILE_BYTES / BLOCK);
    unsigned seed = 1;
    t = now_ns();
    for (int i = 0; i < FILE_BYTES / BLOCK; i++) {
      reset();
      off_t at = (off_t)(rand_r(&seed) % (FILE_BYTES / BLOCK)) * BLOCK;
      if (pread(fd, block, BLOCK, at) != BLOCK) return 1;
    }
    randr[r] = (now_ns() - t) / (FILE_BYTES / BLOCK);
    close(fd);
    unlink("data");
  }
  printf("create %.0f\nstat %.0f\nrename %.0f\nunlink %.0f\nseq_write_4k %.0f\nseq_read_4k %.0f\nrand_read_4k %.0f\n",
         median(create), median(stat_), median(rename_), median(unlink_), median(seqw), median(seqr), median(randr));
  return 0;
}
