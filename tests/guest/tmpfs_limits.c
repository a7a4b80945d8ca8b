/* The limits of a tmpfs mounted with size=256k,nr_inodes=32: statfs, data
 * until ENOSPC, inodes until ENOSPC, and room again after unlinking. Prints
 * one line per observation, compared natively (a real tmpfs mounted with
 * those options) and under the sentry (--tmpfs DIR:size=...,nr_inodes=...).
 * Usage: tmpfs_limits DIR */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

/* A call's result, and its errno if it failed. */
#define SHOW_CALL(what, call)                                                       \
  do {                                                                              \
    errno = 0;                                                                      \
    int r_ = (call);                                                                \
    int e_ = errno;                                                                 \
    printf("%-28s %d %s\n", what, r_, r_ < 0 ? strerror(e_) : "-");                 \
  } while (0)

static void show_statfs(const char* what) {
  struct statfs s;
  if (statfs(".", &s) != 0) {
    printf("%-28s statfs failed: %s\n", what, strerror(errno));
    return;
  }
  printf("%-28s blocks=%lu bfree=%lu files=%lu ffree=%lu bsize=%ld\n", what, (unsigned long)s.f_blocks,
         (unsigned long)s.f_bfree, (unsigned long)s.f_files, (unsigned long)s.f_ffree, (long)s.f_bsize);
}

int main(int argc, char** argv) {
  if (argc != 2 || chdir(argv[1]) != 0) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  show_statfs("empty");
  static char block[4096];
  memset(block, 'x', sizeof block);
  int fd = open("big", O_CREAT | O_WRONLY, 0644);
  long written = 0;
  ssize_t n;
  while ((n = write(fd, block, sizeof block)) > 0) written += n;
  printf("%-28s %ld bytes, then %s\n", "fill one file", written, n < 0 ? strerror(errno) : "0");
  show_statfs("full");
  errno = 0;
  n = write(fd, block, 1);
  printf("%-28s %zd %s\n", "one more byte", n, n < 0 ? strerror(errno) : "-");
  printf("%-28s %d\n", "ftruncate to half", ftruncate(fd, written / 2));
  show_statfs("after ftruncate");
  close(fd);
  printf("%-28s %d\n", "unlink big", unlink("big"));
  show_statfs("after unlink");
  int files = 0;
  char name[32];
  for (;; files++) {
    snprintf(name, sizeof name, "f%d", files);
    int f = open(name, O_CREAT | O_WRONLY, 0644);
    if (f < 0) {
      printf("%-28s %d files, then %s\n", "create until full", files, strerror(errno));
      break;
    }
    close(f);
  }
  show_statfs("no inodes left");
  printf("%-28s %d %s\n", "mkdir with no inode", mkdir("d", 0755), strerror(errno));
  printf("%-28s %d %s\n", "symlink with no inode", symlink("x", "s"), strerror(errno));
  printf("%-28s %d %s\n", "link takes an inode too", link("f0", "f0_again"), strerror(errno));
  unlink("f0");
  unlink("f0_again");
  printf("%-28s %d\n", "create after unlink", close(open("again", O_CREAT | O_WRONLY, 0644)));
  for (int i = 0; i < files; i++) {
    snprintf(name, sizeof name, "f%d", i);
    unlink(name);
  }
  unlink("again");
  show_statfs("emptied");
  /* fallocate counts against the size with FALLOC_FL_KEEP_SIZE too: the
   * sentry let KEEP_SIZE allocations through to its memfd unchecked (ukcov
   * fuzz found one of 1 TiB, which took the host's memory; 1 MiB here is
   * past the mount's 256k all the same). */
  int fa = open("fa", O_CREAT | O_RDWR, 0644);
  SHOW_CALL("fallocate keep 1 MiB", fallocate(fa, FALLOC_FL_KEEP_SIZE, 0, 1 << 20));
  SHOW_CALL("fallocate keep half", fallocate(fa, FALLOC_FL_KEEP_SIZE, 0, 131072));
  show_statfs("half allocated");
  SHOW_CALL("fallocate keep past the room", fallocate(fa, FALLOC_FL_KEEP_SIZE, 131072, 262144));
  show_statfs("nothing more taken");
  SHOW_CALL("fallocate 0 past the room", fallocate(fa, 0, 0, 262144 + 4096));
  SHOW_CALL("fallocate 0 a quarter", fallocate(fa, 0, 0, 65536));
  struct stat fst;
  fstat(fa, &fst);
  printf("%-28s %lld\n", "size after", (long long)fst.st_size);
  close(fa);
  unlink("fa");
  show_statfs("fa removed");
  /* 64 children each write a block to a file they hold open twice (two
   * descriptions alike), unlink it and exit with both open: both releases
   * come at one exit (inotify merged them into one; the sentry kept every
   * such inode, and the mount filled up). Twice the inode limit and a
   * quarter of the size: none of it may stay. */
  int gone = 0;
  for (int i = 0; i < 64; i++) {
    pid_t p = fork();
    if (p == 0) {
      int a = open("held", O_RDWR | O_CREAT, 0600), b = open("held", O_RDWR);
      if (a < 0 || b < 0 || write(a, block, sizeof block) != sizeof block || unlink("held") != 0) _exit(1);
      _exit(0);
    }
    int status;
    if (p > 0 && waitpid(p, &status, 0) == p && WIFEXITED(status) && WEXITSTATUS(status) == 0) gone++;
  }
  printf("%-28s %d of 64\n", "held twice, unlinked, exited", gone);
  show_statfs("after the 64");
  printf("%-28s %d\n", "create after the 64", close(open("last", O_CREAT | O_WRONLY, 0644)));
  return 0;
}
