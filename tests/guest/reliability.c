/* Stress for the sentry, one scenario per argument. Exit 0 when the sentry
 * kept serving correctly throughout (checked with a kcov round at the end);
 * the runner adds UKCOV_CHECK_LEAKS=1, so anything the sentry kept of the
 * guest after it is gone fails the test too. Run on the oracle kernel too,
 * where the same line must come out.
 *   fork_storm  1,000 processes, each making trapped syscalls, half of them
 *               enabling kcov and exiting without any cleanup
 *   many_fds    10,000 kcov fds open at once, then closed
 *   killed      processes SIGKILLed while their threads are in trapped calls
 *   spin        four threads in trapped calls until killed (for
 *               tests/tools/shutdown_test.sh) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define KCOV_ENABLE _IO('c', 100)
#define KCOV_DISABLE _IO('c', 101)

static int kcov_round(void) {
  int fd = open("/sys/kernel/debug/kcov", O_RDWR);
  if (fd < 0 || ioctl(fd, KCOV_INIT_TRACE, 512) != 0) return 0;
  uint64_t* area = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (area == MAP_FAILED || ioctl(fd, KCOV_ENABLE, 0) != 0) return 0;
  area[0] = 0;
  int ok = read(-1, NULL, 0) == -1 && errno == EBADF && area[0] > 0;
  ok &= ioctl(fd, KCOV_DISABLE, 0) == 0;
  munmap(area, 4096);
  close(fd);
  return ok;
}

static int fork_storm(void) {
  for (int i = 0; i < 1000; i++) {
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
      (void)read(-1, NULL, 0);
      if (i % 2 == 0) {
        int fd = open("/sys/kernel/debug/kcov", O_RDWR);
        ioctl(fd, KCOV_INIT_TRACE, 512);
        ioctl(fd, KCOV_ENABLE, 0);
        (void)read(-1, NULL, 0);
      }
      _exit(0);
    }
    if (i % 50 == 49)
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
  }
  while (wait(NULL) > 0) {
  }
  return 1;
}

static int many_fds(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  int want = 10000;
  if (rl.rlim_cur < (rlim_t)want + 64) {
    /* Root may raise the hard limit too. */
    struct rlimit raised = {(rlim_t)want + 64, rl.rlim_max > (rlim_t)want + 64 ? rl.rlim_max : (rlim_t)want + 64};
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      rl.rlim_cur = rl.rlim_max < (rlim_t)want + 64 ? rl.rlim_max : (rlim_t)want + 64;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  int* fds = calloc(want, sizeof(int));
  int opened = 0;
  for (; opened < want; opened++) {
    fds[opened] = open("/sys/kernel/debug/kcov", O_RDWR);
    if (fds[opened] < 0) break;
    if (opened % 100 == 0 && ioctl(fds[opened], KCOV_INIT_TRACE, 512) != 0) break;
  }
  printf("many_fds: %d kcov fds open at once\n", opened);
  for (int i = 0; i < opened; i++) close(fds[i]);
  free(fds);
  return opened == want;
}

static void* hammer(void* p) {
  int fd = *(int*)p;
  for (;;) {
    (void)read(-1, NULL, 0);
    (void)ioctl(fd, 0x1234, 0);
    struct stat st;
    (void)fstat(fd, &st);
  }
  return NULL;
}

static int killed(void) {
  for (int round = 0; round < 30; round++) {
    pid_t pid = fork();
    if (pid == 0) {
      static int fd;
      fd = open("/sys/kernel/debug/kcov", O_RDWR);
      ioctl(fd, KCOV_INIT_TRACE, 512);
      pthread_t t[4];
      for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, &fd);
      ioctl(fd, KCOV_ENABLE, 0);
      hammer(&fd);
    }
    usleep(2000 + (round % 5) * 1000);
    kill(pid, SIGKILL);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) return 0;
  }
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  if (strcmp(argv[1], "spin") == 0) {
    static int fd;
    fd = open("/sys/kernel/debug/kcov", O_RDWR);
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, hammer, &fd);
    hammer(&fd);
  }
  int ok;
  if (strcmp(argv[1], "fork_storm") == 0) ok = fork_storm();
  else if (strcmp(argv[1], "many_fds") == 0) ok = many_fds();
  else if (strcmp(argv[1], "killed") == 0) ok = killed();
  else return 2;
  int after = kcov_round();
  printf("reliability %s: %s, kcov %s afterwards\n", argv[1], ok ? "ok" : "FAILED", after ? "works" : "BROKEN");
  return ok && after ? 0 : 1;
}
