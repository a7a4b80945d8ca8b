/* Time per exec: N times fork, execve(PROGRAM, {PROGRAM}, {}) and wait, each
 * timed alone; prints the median and the 90th percentile in microseconds.
 * Usage: bench_exec PROGRAM [N] (bench/run_exec.sh). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_exec PROGRAM [N]\n");
    return 2;
  }
  int n = argc > 2 ? atoi(argv[2]) : 200;
  double* us = calloc((size_t)n, sizeof *us);
  for (int i = 0; i < n; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) {
      char* args[] = {argv[1], NULL};
      char* env[] = {NULL};
      execve(argv[1], args, env);
      _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
      fprintf(stderr, "bench_exec: %s did not run\n", argv[1]);
      return 1;
    }
    us[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
  }
  qsort(us, (size_t)n, sizeof *us, cmp);
  printf("%.0f %.0f\n", us[n / 2], us[n * 9 / 10]);
  return 0;
}
