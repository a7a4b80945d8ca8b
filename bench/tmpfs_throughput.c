/* Throughput of tmpfs metadata calls from several guest processes at once,
 * each in a directory of its own: P processes, each making create + stat +
 * rename + unlink of small files for a fixed number of rounds. Run on the
 * host's tmpfs natively and on the sentry's under `ukcov run --tmpfs`
 * (bench/run_tmpfs_throughput.sh): what the sentry's locks let run in
 * parallel shows as operations per second against P.
 * Prints "processes P ops_per_second N", median of 5 runs.
 * Usage: bench_tmpfs_throughput DIR PROCESSES */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 2000
#define RUNS 5

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void worker(const char* dir) {
  char a[256], b[256];
  struct stat st;
  for (int i = 0; i < ROUNDS; i++) {
    snprintf(a, sizeof a, "%s/f%d", dir, i);
    snprintf(b, sizeof b, "%s/g%d", dir, i);
    int fd = open(a, O_CREAT | O_WRONLY, 0644);
    if (fd < 0) _exit(1);
    close(fd);
    if (stat(a, &st) != 0 || rename(a, b) != 0 || unlink(b) != 0) _exit(1);
  }
  _exit(0);
}

static int cmp(const void* x, const void* y) {
  double a = *(const double*)x, b = *(const double*)y;
  return a < b ? -1 : a > b;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  int procs = atoi(argv[2]);
  double rates[RUNS];
  for (int run = 0; run < RUNS; run++) {
    char dirs[16][256];
    for (int p = 0; p < procs && p < 16; p++) {
      snprintf(dirs[p], sizeof dirs[p], "%s/p%d.%d", argv[1], run, p);
      if (mkdir(dirs[p], 0755) != 0) return 1;
    }
    double start = now();
    for (int p = 0; p < procs && p < 16; p++)
      if (fork() == 0) worker(dirs[p]);
    int status, ok = 1;
    while (wait(&status) > 0) ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    double elapsed = now() - start;
    if (!ok) return 1;
    for (int p = 0; p < procs && p < 16; p++) rmdir(dirs[p]);
    rates[run] = procs * ROUNDS * 4.0 / elapsed;  /* create, stat, rename, unlink */
  }
  qsort(rates, RUNS, sizeof rates[0], cmp);
  printf("processes %d ops_per_second %.0f\n", procs, rates[RUNS / 2]);
  return 0;
}
