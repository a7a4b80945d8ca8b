/* Whose fd and whose process, thread by thread, as Linux answers:
 *   own_table    a thread with a file table of its own (unshare(CLONE_FILES))
 *                has a kcov fd where the main thread has /dev/null under the
 *                same number; each is answered from its own table
 *   leader_exit  the main thread exits (pthread_exit) while another thread
 *                runs: the process, its kcov files, its working directory
 *                (a tmpfs) and the files in it go on
 * Usage: kcov_threads DIR (a tmpfs: the sentry's under `ukcov run --tmpfs`,
 * Linux's on the oracle kernel). One line per check (kcov_guest.h); the
 * sections that need the guest's own description of a tmpfs file print
 * "not in this kernel" where the sentry cannot reach it (a host kernel
 * without PIDFD_THREAD: tests/oracle/exceptions). */
#include "kcov_guest.h"

#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define WORDS (64 << 10)
#define FD 100
#define LEADER_FILE 120

static void* own_table(void* unused) {
  (void)unused;
  kcov_section = "own_table";
  EXPECT_CALL("unshare(CLONE_FILES)", unshare(CLONE_FILES), "0");
  int kcov = kcov_open();
  EXPECT_YES("dup2 a kcov fd to the number the main thread's /dev/null has", dup2(kcov, FD) == FD);
  close(kcov);
  char c;
  EXPECT_CALL("read on it", read(FD, &c, 1), "-1 EINVAL");
  EXPECT_CALL("INIT_TRACE on it", ioctl(FD, KCOV_INIT_TRACE, WORDS), "0");
  uint64_t* area = mmap(NULL, WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, FD, 0);
  EXPECT_YES("mmap", area != MAP_FAILED);
  EXPECT_CALL("ENABLE", ioctl(FD, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  if (area != MAP_FAILED) {
    kcov_reset(area);
    (void)read(-1, NULL, 0);
    EXPECT_YES("its read(-1) is recorded", kcov_holds_read(area, WORDS));
  }
  EXPECT_CALL("DISABLE", ioctl(FD, KCOV_DISABLE, 0), "0");
  /* A tmpfs file in this table, /dev/zero under the number in the main
   * thread's. */
  int f = open("own_table_file", O_RDWR | O_CREAT | O_TRUNC, 0644);
  dup2(f, FD + 1);
  close(f);
  errno = 0;
  long w = write(FD + 1, "abc", 3);
  if (w == -1 && errno == EOPNOTSUPP) {
    kcov_absent("own_table_tmpfs");
  } else {
    kcov_section = "own_table_tmpfs";
    char b[32];
    kcov_line("write to a tmpfs file in it", kcov_result(w, errno, b), "ok");
    EXPECT_CALL("lseek to 0", lseek(FD + 1, 0, SEEK_SET), "0");
    char back[4] = {0};
    EXPECT_YES("read back", read(FD + 1, back, 3) == 3 && memcmp(back, "abc", 3) == 0);
  }
  kcov_section = "own_table";
  if (area != MAP_FAILED) munmap(area, WORDS * 8);
  return NULL;
}

static void own_table_check(void) {
  kcov_section = "own_table";
  int null = open("/dev/null", O_RDWR), zero = open("/dev/zero", O_RDWR);
  EXPECT_YES("the main thread has /dev/null and /dev/zero there",
             dup2(null, FD) == FD && dup2(zero, FD + 1) == FD + 1);
  close(null);
  close(zero);
  pthread_t t;
  pthread_create(&t, NULL, own_table, NULL);
  pthread_join(t, NULL);
  kcov_section = "own_table";
  char c;
  EXPECT_CALL("the main thread's read of its /dev/null", read(FD, &c, 1), "0");
  EXPECT_CALL("the main thread's ioctl on it", ioctl(FD, KCOV_INIT_TRACE, WORDS), "-1 ENOTTY");
  EXPECT_CALL("the main thread's read of its /dev/zero", read(FD + 1, &c, 1), "ok");
  struct stat st;
  EXPECT_YES("the tmpfs file is there", stat("own_table_file", &st) == 0 && S_ISREG(st.st_mode));
  close(FD);
  close(FD + 1);
}

/* ---- the leader exits ---- */

static int leader_kcov;
static pid_t leader;

static int leader_is_zombie(void) {
  char path[64], stat_line[256];
  snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)leader, (int)leader);
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  char* ok = fgets(stat_line, sizeof stat_line, f);
  fclose(f);
  char* close_paren = ok ? strrchr(stat_line, ')') : NULL;
  return close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

static void* after_the_leader(void* unused) {
  (void)unused;
  kcov_section = "leader_exit";
  int zombie = 0;
  for (int i = 0; i < 100000 && !(zombie = leader_is_zombie()); i++) usleep(100);
  EXPECT_YES("the leader has exited", zombie);
  EXPECT_CALL("INIT_TRACE again on the leader's kcov fd (the same instance)",
              ioctl(leader_kcov, KCOV_INIT_TRACE, WORDS), "-1 EBUSY");
  uint64_t* area;
  int fd = kcov_ready(WORDS, &area);
  EXPECT_YES("a new kcov fd: open, INIT_TRACE, mmap", fd >= 0);
  if (fd >= 0) {
    EXPECT_CALL("ENABLE", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
    kcov_reset(area);
    (void)read(-1, NULL, 0);
    EXPECT_YES("read(-1) is recorded", kcov_holds_read(area, WORDS));
    EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  }
  /* The working directory is the tmpfs still. */
  EXPECT_CALL("mkdir in the working directory", mkdir("after_leader", 0755), "0");
  struct stat st;
  EXPECT_YES("stat finds it, a directory", stat("after_leader", &st) == 0 && S_ISDIR(st.st_mode));
  EXPECT_YES("the file the leader made is there", stat("leader_file", &st) == 0 && st.st_size == 5);
  int f = open("leader_file", O_RDONLY);
  char back[8] = {0};
  errno = 0;
  long n = read(f, back, sizeof back);
  if (n == -1 && errno == EOPNOTSUPP) {
    kcov_absent("leader_exit_tmpfs");
  } else {
    kcov_section = "leader_exit_tmpfs";
    EXPECT_YES("read it", n == 5 && memcmp(back, "hello", 5) == 0);
    EXPECT_CALL("read the leader's open description of it", read(LEADER_FILE, back, 5), "ok");
    EXPECT_YES("at the leader's offset", memcmp(back, "llo", 3) == 0);
  }
  close(f);
  /* The whole process ends here (exit_group). */
  exit(kcov_summary("kcov_threads"));
  return NULL;
}

static void leader_exit(void) {
  kcov_section = "leader_exit";
  leader = getpid();
  leader_kcov = kcov_open();
  EXPECT_CALL("INIT_TRACE on the leader", ioctl(leader_kcov, KCOV_INIT_TRACE, WORDS), "0");
  int f = open("leader_file", O_RDWR | O_CREAT | O_TRUNC, 0644);
  EXPECT_CALL("the leader writes a tmpfs file", write(f, "hello", 5), "ok");
  EXPECT_CALL("and leaves its description at offset 2", lseek(f, 2, SEEK_SET), "ok");
  EXPECT_YES("and dup2s it to fd 120", dup2(f, LEADER_FILE) == LEADER_FILE);
  close(f);
  pthread_t t;
  pthread_create(&t, NULL, after_the_leader, NULL);
  fflush(stdout);
  pthread_exit(NULL);
}

int main(int argc, char** argv) {
  if (argc != 2 || chdir(argv[1]) != 0) return 2;
  kcov_section = "setup";
  EXPECT_YES("read(-1)'s PCs, single- and multi-threaded, each twice the same", kcov_measure_read());
  own_table_check();
  leader_exit();
  return 1; /* not reached */
}
