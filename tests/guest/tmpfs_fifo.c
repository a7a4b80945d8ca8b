/* A guest that waits in a host call the sentry makes for it: the open of a
 * host FIFO reached through a tmpfs symlink, with no writer. Meanwhile
 * another process of the guest works in the mount (the sentry must not
 * stall), then the waiting one is killed (the sentry must let go of its
 * call, and `ukcov run` end). Run natively on a real tmpfs and under
 * `ukcov run --tmpfs` by run_conformance.sh: the outputs must be identical.
 * Usage: tmpfs_fifo DIR */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whether `pid` is blocked in syscall `nr` (/proc/PID/syscall). */
static int blocked_in(pid_t pid, long nr) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
  FILE* f = fopen(path, "r");
  long now = -1;
  if (f) {
    if (fscanf(f, "%ld", &now) != 1) now = -1;
    fclose(f);
  }
  return now == nr;
}

int main(int argc, char** argv) {
  if (argc != 2 || chdir(argv[1]) != 0) return 2;
  char fifo[64];
  snprintf(fifo, sizeof fifo, "/tmp/ukcov-fifo-%d", (int)getpid());
  printf("mkfifo on the host: %d\n", mkfifo(fifo, 0600));
  printf("a tmpfs symlink to it: %d\n", symlink(fifo, "link"));
  fflush(stdout);
  pid_t waiter = fork();
  if (waiter == 0) {
    open("link", O_RDONLY);  /* no writer: waits until killed */
    _exit(1);
  }
  int waiting = 0;
  for (int i = 0; i < 100000 && !(waiting = blocked_in(waiter, SYS_openat)); i++) usleep(100);
  printf("the reader waits in open: %s\n", waiting ? "yes" : "no");
  /* Meanwhile the mount serves everyone else. */
  printf("mkdir in the mount meanwhile: %d\n", mkdir("d", 0755));
  struct stat st;
  printf("stat it: %s\n", stat("d", &st) == 0 && S_ISDIR(st.st_mode) ? "a directory" : "missing");
  int fd = open("f", O_RDWR | O_CREAT, 0644);
  printf("write a file meanwhile: %zd\n", write(fd, "abc", 3));
  close(fd);
  printf("a nonblocking reader opens at once: %s\n", (fd = open("link", O_RDONLY | O_NONBLOCK)) >= 0 ? "yes" : strerror(errno));
  close(fd);
  kill(waiter, SIGKILL);
  int status;
  printf("the waiting reader, killed: %s\n",
         waitpid(waiter, &status, 0) == waiter && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? "SIGKILL" : "?");
  printf("unlink the host FIFO: %d\n", unlink(fifo));
  return 0;
}
