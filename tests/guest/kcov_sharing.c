/* kcov across the ways an open file travels, as real clients use them:
 *   kcovtrace   the parent INITs and maps, forks; the child ENABLEs and
 *               execve()s a program: coverage goes on across exec, and the
 *               parent reads it after waitpid
 *   scm_rights  an fd passed over a unix socket is the same instance
 *   exec_from_thread  a non-leader thread enables and execs: it becomes the
 *               leader and keeps its coverage; the old leader's is released
 * Prints "kcov_sharing: N passed, M failed"; 77: no kcov here. */
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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define KCOV_ENABLE _IO('c', 100)
#define KCOV_DISABLE _IO('c', 101)
#define WORDS (64 << 10)

static int passed, failed;
#define CHECK(c) ((c) ? passed++ : (failed++, printf("FAIL line %d: %s\n", __LINE__, #c)))

static int kcovtrace(const char* self) {
  int fd = open("/sys/kernel/debug/kcov", O_RDWR);
  if (fd < 0 || ioctl(fd, KCOV_INIT_TRACE, WORDS)) return 0;
  uint64_t* cover = mmap(NULL, WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (cover == MAP_FAILED) return 0;
  pid_t pid = fork();
  if (pid == 0) {
    if (ioctl(fd, KCOV_ENABLE, 0)) _exit(10);
    __atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
    /* The exec'd program's syscalls (its loader opens libraries, reads
     * files) are traced into the same area. */
    execl(self, self, "exec-target", (char*)NULL);
    _exit(11);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  uint64_t n = __atomic_load_n(&cover[0], __ATOMIC_RELAXED);
  CHECK(n > 0);
  /* The child is gone: its instance is free for the parent. */
  CHECK(ioctl(fd, KCOV_ENABLE, 0) == 0);
  CHECK(ioctl(fd, KCOV_DISABLE, 0) == 0);
  munmap(cover, WORDS * 8);
  close(fd);
  return 1;
}

/* A thread other than the leader enables kcov and execs: it becomes the
 * process's leader (taking its tid) and keeps its coverage; the old leader,
 * killed by the exec, releases its own instance. */
static int readied(void) {
  int fd = open("/sys/kernel/debug/kcov", O_RDWR);
  return fd >= 0 && ioctl(fd, KCOV_INIT_TRACE, WORDS) == 0 ? fd : -1;
}

static int exec_fds[2];
static const char* exec_self;

static void* exec_thread(void* unused) {
  (void)unused;
  if (ioctl(exec_fds[0], KCOV_ENABLE, 0) != 0) _exit(20);
  char a[16], b[16];
  snprintf(a, sizeof a, "%d", exec_fds[0]);
  snprintf(b, sizeof b, "%d", exec_fds[1]);
  execl(exec_self, exec_self, "exec-thread-target", a, b, (char*)NULL);
  _exit(21);
}

static int exec_thread_target(int fd, int leader_fd) {
  uint64_t* cover = mmap(NULL, WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (cover == MAP_FAILED) return 30;
  __atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
  (void)read(-1, NULL, 0);
  if (__atomic_load_n(&cover[0], __ATOMIC_RELAXED) == 0) return 31;  /* still this thread's */
  if (getpid() != (pid_t)syscall(SYS_gettid)) return 32;            /* the leader now */
  if (ioctl(fd, KCOV_DISABLE, 0) != 0) return 33;                    /* and its owner */
  if (ioctl(leader_fd, KCOV_ENABLE, 0) != 0) return 34;              /* the old leader's is free */
  if (ioctl(leader_fd, KCOV_DISABLE, 0) != 0) return 35;
  return 0;
}

static void exec_from_thread(const char* self) {
  pid_t pid = fork();
  if (pid == 0) {
    exec_self = self;
    exec_fds[0] = readied();
    exec_fds[1] = readied();
    if (exec_fds[0] < 0 || exec_fds[1] < 0 || ioctl(exec_fds[1], KCOV_ENABLE, 0) != 0) _exit(10);
    pthread_t t;
    pthread_create(&t, NULL, exec_thread, NULL);
    for (;;) pause();  /* the exec kills this thread */
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) printf("exec_from_thread: step %d failed\n", WEXITSTATUS(status));
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int send_fd(int sock, int fd) {
  char byte = 'k';
  struct iovec iov = {&byte, 1};
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, 0) == 1;
}

static int recv_fd(int sock) {
  char byte;
  struct iovec iov = {&byte, 1};
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  if (recvmsg(sock, &msg, 0) != 1) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
  return fd;
}

static void scm_rights(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    /* The child opens and INITs, maps, passes the fd and exits. */
    int fd = open("/sys/kernel/debug/kcov", O_RDWR);
    int ok = fd >= 0 && ioctl(fd, KCOV_INIT_TRACE, WORDS) == 0 && send_fd(sv[1], fd);
    _exit(ok ? 0 : 1);
  }
  int fd = recv_fd(sv[0]);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(fd >= 0);
  /* Already INITed by the sender: the same instance. */
  CHECK(ioctl(fd, KCOV_INIT_TRACE, WORDS) == -1 && errno == EBUSY);
  uint64_t* cover = mmap(NULL, WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(cover != MAP_FAILED);
  CHECK(ioctl(fd, KCOV_ENABLE, 0) == 0);
  cover[0] = 0;
  (void)read(-1, NULL, 0);
  CHECK(cover[0] > 0);
  CHECK(ioctl(fd, KCOV_DISABLE, 0) == 0);
  munmap(cover, WORDS * 8);
  close(fd);
  close(sv[0]);
  close(sv[1]);
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "exec-target") == 0) {
    /* Some traced work after exec: opens and a failing read. */
    int fd = open("/sys/kernel/debug/kcov", O_RDONLY);
    close(fd);
    return read(-1, NULL, 0) == -1 ? 0 : 1;
  }
  if (argc == 4 && strcmp(argv[1], "exec-thread-target") == 0) return exec_thread_target(atoi(argv[2]), atoi(argv[3]));
  int probe = open("/sys/kernel/debug/kcov", O_RDWR);
  if (probe < 0 && errno == ENOENT) return fprintf(stderr, "kcov_sharing: no kcov here (ENOENT)\n"), 77;
  close(probe);
  CHECK(kcovtrace(argv[0]));
  scm_rights();
  exec_from_thread(argv[0]);
  printf("kcov_sharing: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
