/* kcov across the ways an open file travels, as real clients use them:
 *   kcovtrace   the parent INITs and maps, forks; the child ENABLEs and
 *               execve()s a program: coverage goes on across exec, and the
 *               parent reads it after waitpid
 *   scm_rights  an fd passed over a unix socket is the same instance
 *   exec_from_thread  a non-leader thread enables and execs: it becomes the
 *               leader and keeps its coverage; the old leader's is released
 * One line per check (kcov_guest.h); run on the oracle kernel and under
 * `ukcov run`, the outputs must be identical. */
#include "kcov_guest.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define WORDS (64 << 10)

static void kcovtrace(const char* self) {
  kcov_section = "kcovtrace";
  int fd = kcov_open();
  EXPECT_CALL("INIT_TRACE in the parent", ioctl(fd, KCOV_INIT_TRACE, WORDS), "0");
  uint64_t* cover = mmap(NULL, WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  EXPECT_YES("mmap in the parent", cover != MAP_FAILED);
  if (cover == MAP_FAILED) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (ioctl(fd, KCOV_ENABLE, 0)) _exit(10);
    kcov_reset(cover);
    /* The exec'd program's syscalls (and on Linux the exec itself) are
     * traced into the same area. */
    execl(self, self, "exec-target", (char*)NULL);
    _exit(11);
  }
  int status;
  EXPECT_YES("the child ENABLEd, exec'd and exited 0",
             waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_YES("the parent reads the exec'd program's trace", kcov_count(cover) > 0);
  struct kcov_pcs s = kcov_pcs_of(cover, WORDS);
  EXPECT_YES("every PC is in the kernel text range", kcov_pcs_all_in_text(&s));
  kcov_pcs_free(&s);
  /* The child is gone: its instance is free for the parent. */
  EXPECT_CALL("ENABLE in the parent after waitpid", ioctl(fd, KCOV_ENABLE, 0), "0");
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  munmap(cover, WORDS * 8);
  close(fd);
}

/* A thread other than the leader enables kcov and execs: it becomes the
 * process's leader (taking its tid) and keeps its coverage; the old leader,
 * killed by the exec, releases its own instance. */
static int readied(void) {
  int fd = kcov_open();
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
  kcov_section = "exec_from_thread";
  fflush(stdout);
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
  EXPECT_YES("the process exited", waitpid(pid, &status, 0) == pid && WIFEXITED(status));
  char step[32];
  snprintf(step, sizeof step, "exit %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  /* 0: the exec'ing thread kept its coverage, became the leader, could
   * DISABLE, and the old leader's instance was free. */
  kcov_line("every step after the exec passed", step, "exit 0");
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
  kcov_section = "scm_rights";
  int sv[2];
  EXPECT_CALL("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "0");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    /* The child opens and INITs, maps, passes the fd and exits. */
    int fd = kcov_open();
    int ok = fd >= 0 && ioctl(fd, KCOV_INIT_TRACE, WORDS) == 0 && send_fd(sv[1], fd);
    _exit(ok ? 0 : 1);
  }
  int fd = recv_fd(sv[0]);
  int status;
  EXPECT_YES("the child opened, INITed and sent the fd",
             waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_YES("received an fd", fd >= 0);
  /* Already INITed by the sender: the same instance. */
  EXPECT_CALL("INIT_TRACE on the received fd", ioctl(fd, KCOV_INIT_TRACE, WORDS), "-1 EBUSY");
  uint64_t* cover = mmap(NULL, WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  EXPECT_YES("mmap of the received fd", cover != MAP_FAILED);
  EXPECT_CALL("ENABLE", ioctl(fd, KCOV_ENABLE, 0), "0");
  if (cover != MAP_FAILED) {
    kcov_reset(cover);
    (void)read(-1, NULL, 0);
    EXPECT_YES("read(-1) is recorded", kcov_count(cover) > 0);
    munmap(cover, WORDS * 8);
  }
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  close(fd);
  close(sv[0]);
  close(sv[1]);
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "exec-target") == 0) {
    /* Some traced work after exec: opens and a failing read. */
    int fd = open(KCOV_PATH, O_RDONLY);
    close(fd);
    return read(-1, NULL, 0) == -1 ? 0 : 1;
  }
  if (argc == 4 && strcmp(argv[1], "exec-thread-target") == 0) return exec_thread_target(atoi(argv[2]), atoi(argv[3]));
  kcovtrace(argv[0]);
  scm_rights();
  exec_from_thread(argv[0]);
  return kcov_summary("kcov_sharing");
}
