/* One operation at a time on a file system, in ns per operation (the mean
 * of N): what a call on a --tmpfs mount costs under each interception mode
 * (bench/run_workloads.sh). Usage: mount_ops DIR [N] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const int n = argc > 2 ? atoi(argv[2]) : 20000;
  char path[4096], b[8];
  snprintf(path, sizeof path, "%s/f", argv[1]);
  int fd = open(path, O_RDWR | O_CREAT, 0644);
  if (fd < 0 || setxattr(path, "user.x", "v", 1, 0) != 0) return perror("setup"), 1;
  double t = now();
  for (int i = 0; i < n; i++) getxattr(path, "user.x", b, sizeof b);
  printf("getxattr %.0f\n", (now() - t) / n);
  t = now();
  for (int i = 0; i < n; i++) pwrite(fd, b, 1, 0);
  printf("pwrite1 %.0f\n", (now() - t) / n);
  const int files = n / 10;
  t = now();
  for (int i = 0; i < files; i++) {
    snprintf(path, sizeof path, "%s/g%d", argv[1], i);
    close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0644));
  }
  printf("create %.0f\n", (now() - t) / files);
  return 0;
}
