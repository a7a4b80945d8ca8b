/* The signal's stability: the PCs each of a fixed set of short syscall
 * programs records in its kcov buffer, as a set. Run many times (by
 * run_stable.sh, each run with other pids), every run must print the same
 * lines: the same call on the same state gives the same PC set, whatever
 * the host's pids, inode numbers, timing or hash-table layout.
 *
 * Usage: kcov_stable MOUNT HOSTDIR
 *   MOUNT    a directory of the sentry's tmpfs (--tmpfs), or "-" for none
 *   HOSTDIR  a fresh directory of the host's
 * Prints "program: N PCs, set HASH" per program (FNV-1a of the sorted set).
 * A program's state is made before kcov is enabled and undone after, so
 * that only its calls are recorded. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kcov_guest.h"

#define WORDS (1 << 16)

static uint64_t* area;
static int kcov_fd;
static const char* mount_dir;
static const char* host_dir;
static char path_a[4096], path_b[4096];

static int compare(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

/* Runs `body` with TRACE_PC enabled on this thread and prints its PC set. */
static void record(const char* name, void (*body)(void)) {
  if (ioctl(kcov_fd, KCOV_ENABLE, KCOV_TRACE_PC) != 0) {
    printf("%s: KCOV_ENABLE: %s\n", name, strerror(errno));
    return;
  }
  kcov_reset(area);
  body();
  uint64_t n = kcov_count(area);
  if (n > WORDS - 1) n = WORDS - 1;
  static uint64_t pcs[WORDS];
  memcpy(pcs, area + 1, n * sizeof pcs[0]);
  ioctl(kcov_fd, KCOV_DISABLE, 0);
  qsort(pcs, n, sizeof pcs[0], compare);
  uint64_t hash = 1469598103934665603ull, distinct = 0;
  for (uint64_t i = 0; i < n; i++) {
    if (i > 0 && pcs[i] == pcs[i - 1]) continue;
    distinct++;
    for (int b = 0; b < 8; b++) hash = (hash ^ ((pcs[i] >> (8 * b)) & 0xff)) * 1099511628211ull;
  }
  printf("%s: %llu PCs, set %016llx\n", name, (unsigned long long)distinct, (unsigned long long)hash);
}

/* ---- the programs ------------------------------------------------------ */

static void read_bad_fd(void) { (void)!read(-1, NULL, 0); }

static void stat_host_absolute(void) {
  struct stat st;
  stat(path_a, &st);  /* HOSTDIR/file */
}

static void stat_host_relative(void) {
  struct stat st;
  stat("file", &st);  /* cwd: HOSTDIR */
}

static void open_host_missing(void) { open("missing", O_RDONLY); }

static void write_read_mount_absolute(void) {
  int fd = open(path_b, O_CREAT | O_RDWR | O_TRUNC, 0644);  /* MOUNT/f */
  char buf[8];
  (void)!write(fd, "hello", 5);
  (void)!pread(fd, buf, 5, 0);
  close(fd);
}

static void write_read_mount_relative(void) {
  int fd = open("g", O_CREAT | O_RDWR | O_TRUNC, 0644);  /* cwd: MOUNT */
  char buf[8];
  (void)!write(fd, "hello", 5);
  (void)!pread(fd, buf, 5, 0);
  close(fd);
}

static void mkdir_rename_rmdir_mount(void) {
  mkdir("d", 0755);
  rename("d", "e");
  rmdir("e");
}

static void proc_self_fd_mount(void) {
  int fd = open("g", O_RDONLY);
  char link[64];
  struct stat st;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  stat(link, &st);
  close(fd);
}

static void proc_self_cwd_host(void) {
  struct stat st;
  stat("/proc/self/cwd/file", &st);  /* cwd: HOSTDIR */
}

static void fork_and_wait(void) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, NULL, 0);
}

static void kcov_ioctl_busy(void) { ioctl(kcov_fd, KCOV_INIT_TRACE, WORDS); }

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MOUNT|- HOSTDIR\n", argv[0]);
    return 2;
  }
  mount_dir = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
  host_dir = argv[2];
  setvbuf(stdout, NULL, _IOLBF, 0);
  kcov_fd = kcov_ready(WORDS, &area);
  if (kcov_fd < 0) {
    printf("kcov: %s\n", strerror(errno));
    return 1;
  }
  snprintf(path_a, sizeof path_a, "%s/file", host_dir);
  close(open(path_a, O_CREAT | O_WRONLY, 0644));
  /* Each program twice: the first run may fill a cache the second finds. */
  for (int round = 0; round < 2; round++) {
    printf("round %d\n", round);
    record("read(-1)", read_bad_fd);
    record("stat host absolute", stat_host_absolute);
    if (chdir(host_dir) == 0) {
      record("stat host relative", stat_host_relative);
      record("open host missing", open_host_missing);
      record("/proc/self/cwd, a host file", proc_self_cwd_host);
    }
    record("kcov INIT_TRACE again", kcov_ioctl_busy);
    record("fork and wait", fork_and_wait);
    if (mount_dir != NULL) {
      snprintf(path_b, sizeof path_b, "%s/f", mount_dir);
      record("write/read mount absolute", write_read_mount_absolute);
      if (chdir(mount_dir) == 0) {
        record("write/read mount relative", write_read_mount_relative);
        record("mkdir/rename/rmdir mount", mkdir_rename_rmdir_mount);
        record("/proc/self/fd of a mount file", proc_self_fd_mount);
      }
      unlink(path_b);
      unlink("g");
    }
  }
  unlink(path_a);
  return 0;
}
