/* The fuzz programs' runtime: what runs around a program's calls, the same
 * in the executor (which interprets a decoded input) and in a C reproducer
 * (`ukcov fuzz --replay`, which prints the program as C after this file's
 * text, so the two cannot drift apart).
 *
 * A program runs in a fresh child of the process that holds the collectors
 * (kcov instances INITed and mapped once: the program's main thread's, and
 * its sections'), with the scratch directory
 * SCRATCH, in the tmpfs mounted at MOUNT, as its working directory:
 *   fuzz_prepare()            once: the buffers, the collector
 *   fuzz_run(program, arg)    per program: scratch made, child forked; the
 *                             child enables the collector, runs the program
 *                             and exits; the scratch is removed. Returns the
 *                             child's wait status.
 * Plain C, no dependency beyond libc: a reproducer must compile alone. */
#ifndef UKCOV_FUZZ_RUNTIME_H_
#define UKCOV_FUZZ_RUNTIME_H_

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define FUZZ_MOUNT "/tmp/ukcov-fuzz"
#define FUZZ_SCRATCH FUZZ_MOUNT "/s"
/* Made by `ukcov fuzz`'s sandbox in its own /tmp (protocol.h's
 * UKCOV_FUZZ_SANDBOX_MARK). */
#define FUZZ_SANDBOX_MARK "/tmp/.ukcov-fuzz-sandbox"
#define FUZZ_KCOV "/sys/kernel/debug/kcov"
/* The collector's fd: far above what a program's calls allocate or name. */
#define FUZZ_COLLECTOR_FD 250
#define FUZZ_COLLECTOR_WORDS (1u << 18)
/* The sections' collector: a fork or thread section enables it for its own
 * task (the program's main thread holds the first), so that what sections
 * make the sentry do is recorded too. A nested section finds it busy
 * (EBUSY) and runs unrecorded. */
#define FUZZ_SECTION_FD 251
/* The buffer every pointer argument points into: 1 MiB, then a page no
 * access reaches, so a length past it faults inside the sentry (EFAULT or a
 * short transfer), never into the program's own memory. */
#define FUZZ_BUF_SIZE (1u << 20)
/* A program that blocks (a lock, a FIFO) is ended after this long: a guest's
 * wait, not a sentry's fault. A sentry that stops answering is caught by
 * the fuzzer's own timeout, which is longer. */
#define FUZZ_PROGRAM_SECONDS 1

/* Asks `ukcov run --check-invariants` to check the sentry's invariants
 * (protocol.h's UKCOV_FUZZ_CHECK_INVARIANTS); ENOTTY without the option. */
#define FUZZ_CHECK_INVARIANTS 0x75c1
#define FUZZ_KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define FUZZ_KCOV_ENABLE _IO('c', 100)
#define FUZZ_KCOV_DISABLE _IO('c', 101)

/* The program's results, by slot: fds, addresses, whatever a call returned. */
static long r[16];
static pid_t fuzz_last_pid; /* the last program's pid */
static char* buf;
static uint64_t* fuzz_area;
static uint64_t* fuzz_section_area;

/* Fixed argument structures, each built once over `buf`'s address. */
static struct timespec fuzz_times[4][2];
static struct iovec fuzz_iov[3][4];
struct fuzz_open_how {
  uint64_t flags, mode, resolve;
  uint64_t extra; /* openat2 with a larger size: must be zero */
};
static struct fuzz_open_how fuzz_how[4];
/* struct kcov_remote_arg, with room for two handles after its 24 bytes */
struct fuzz_remote_arg {
  uint32_t trace_mode, area_size, num_handles, pad;
  uint64_t common_handle;
  uint64_t handles[2];
};
#define FUZZ_KCOV_REMOTE_ENABLE _IOC(_IOC_WRITE, 'c', 102, 24)
static struct fuzz_remote_arg fuzz_remote[3];
static struct flock fuzz_locks[3];
/* execve's argument vectors and environments: argv {"a"}, argv {"a", "b"},
 * an environment {"A=1"}. */
static char* const fuzz_argv[3][3] = {{"a", NULL}, {"a", "b", NULL}, {"A=1", NULL}};
/* What a program may write that an exec reads, at buf + FUZZ_CONTENT(k): #!
 * lines that the sentry's binfmt_script takes apart (an interpreter, its
 * argument, a loop, none, a missing one, one past BINPRM_BUF_SIZE), a
 * broken ELF header, and a copy of a real executable. Each runs on into the
 * buffer's letters. */
#define FUZZ_CONTENT(k) (FUZZ_BUF_SIZE / 2 + (k) * 4096)
#define FUZZ_CONTENT_PROGRAM (FUZZ_BUF_SIZE / 2 + 7 * 4096)
#define FUZZ_PROGRAM "/bin/true"
static const char* const fuzz_scripts[7] = {
    "#!" FUZZ_PROGRAM "\n", "#!" FUZZ_PROGRAM " -x y\n", "#! ./a\n", "#!\n", "#!/nonexistent\n", "#!/",
    "\177ELF\2\1\1"};

/* An AF_UNIX address of a path. */
static struct sockaddr_un fuzz_sun;
static struct sockaddr_un* fuzz_unix_address(const char* path) {
  memset(&fuzz_sun, 0, sizeof fuzz_sun);
  fuzz_sun.sun_family = AF_UNIX;
  strncpy(fuzz_sun.sun_path, path, sizeof fuzz_sun.sun_path - 1);
  return &fuzz_sun;
}

static void fuzz_remember(void);
static void fuzz_restore(void);

static void fuzz_die(const char* what) {
  fprintf(stderr, "fuzz runtime: %s: %s\n", what, strerror(errno));
  exit(3);
}

static void fuzz_prepare(void) {
  char* p = mmap(NULL, FUZZ_BUF_SIZE + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fuzz_die("mmap buffer");
  if (mprotect(p + FUZZ_BUF_SIZE, 4096, PROT_NONE) != 0) fuzz_die("mprotect guard");
  buf = p;
  fuzz_times[1][0].tv_nsec = UTIME_NOW;
  fuzz_times[1][1].tv_nsec = UTIME_OMIT;
  fuzz_times[2][0].tv_sec = 1;
  fuzz_times[2][0].tv_nsec = 2;
  fuzz_times[2][1].tv_sec = 3;
  fuzz_times[2][1].tv_nsec = 4;
  fuzz_times[3][0].tv_nsec = 1000000000; /* EINVAL */
  fuzz_times[3][1].tv_nsec = UTIME_OMIT;
  fuzz_iov[0][0].iov_base = buf;
  fuzz_iov[0][0].iov_len = 16;
  fuzz_iov[1][0].iov_base = buf;
  fuzz_iov[1][0].iov_len = 0;
  fuzz_iov[1][1].iov_base = buf + 100;
  fuzz_iov[1][1].iov_len = 4096;
  fuzz_iov[1][2].iov_base = NULL;
  fuzz_iov[1][2].iov_len = 8;
  fuzz_iov[2][0].iov_base = buf + FUZZ_BUF_SIZE - 8;
  fuzz_iov[2][0].iov_len = 4096; /* runs into the guard page */
  fuzz_how[0].flags = O_RDONLY;
  fuzz_how[1].flags = O_RDWR | O_CREAT;
  fuzz_how[1].mode = 0644;
  fuzz_how[1].resolve = 0x08; /* RESOLVE_BENEATH */
  fuzz_how[2].flags = O_PATH;
  fuzz_how[2].resolve = 0x04 | 0x02; /* RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS */
  fuzz_how[3].flags = O_RDONLY;
  fuzz_how[3].resolve = 0x10; /* RESOLVE_IN_ROOT */
  fuzz_how[3].extra = 1;
  fuzz_remote[0].trace_mode = 0;
  fuzz_remote[0].area_size = 4096;
  fuzz_remote[0].common_handle = 1;
  fuzz_remote[1].trace_mode = 0;
  fuzz_remote[1].area_size = 4096;
  fuzz_remote[1].num_handles = 1;
  fuzz_remote[1].handles[0] = (1ull << 56) | 1; /* a USB handle */
  fuzz_remote[2].trace_mode = 7;
  fuzz_remote[2].area_size = 0;
  fuzz_remote[2].num_handles = 0x10000;
  fuzz_locks[0].l_type = F_RDLCK;
  fuzz_locks[1].l_type = F_WRLCK;
  fuzz_locks[1].l_start = 10;
  fuzz_locks[1].l_len = 100;
  fuzz_locks[2].l_type = F_UNLCK;
  for (size_t i = 0; i < FUZZ_BUF_SIZE; i++) buf[i] = (char)('a' + i % 26);
  for (int k = 0; k < 7; k++) memcpy(buf + FUZZ_CONTENT(k), fuzz_scripts[k], strlen(fuzz_scripts[k]));
  int program = open(FUZZ_PROGRAM, O_RDONLY);
  if (program < 0) fuzz_die("open " FUZZ_PROGRAM);
  if (read(program, buf + FUZZ_CONTENT_PROGRAM, FUZZ_BUF_SIZE - FUZZ_CONTENT_PROGRAM) <= 0) fuzz_die("read " FUZZ_PROGRAM);
  close(program);

  int fd = open(FUZZ_KCOV, O_RDWR);
  if (fd < 0) fuzz_die("open " FUZZ_KCOV);
  if (dup2(fd, FUZZ_COLLECTOR_FD) < 0) fuzz_die("dup2 collector");
  close(fd);
  if (ioctl(FUZZ_COLLECTOR_FD, FUZZ_KCOV_INIT_TRACE, FUZZ_COLLECTOR_WORDS) != 0) fuzz_die("KCOV_INIT_TRACE");
  void* area = mmap(NULL, FUZZ_COLLECTOR_WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, FUZZ_COLLECTOR_FD, 0);
  if (area == MAP_FAILED) fuzz_die("mmap collector");
  fuzz_area = area;
  fd = open(FUZZ_KCOV, O_RDWR);
  if (fd < 0) fuzz_die("open " FUZZ_KCOV);
  if (dup2(fd, FUZZ_SECTION_FD) < 0) fuzz_die("dup2 section collector");
  close(fd);
  if (ioctl(FUZZ_SECTION_FD, FUZZ_KCOV_INIT_TRACE, FUZZ_COLLECTOR_WORDS) != 0) fuzz_die("KCOV_INIT_TRACE");
  area = mmap(NULL, FUZZ_COLLECTOR_WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, FUZZ_SECTION_FD, 0);
  if (area == MAP_FAILED) fuzz_die("mmap section collector");
  fuzz_section_area = area;
  fuzz_remember();
  fuzz_restore();
  /* Orphans of a program (a section's child left behind) are ours to reap. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/* Removes what a program left under `path` (a file or a directory tree),
 * whatever its modes and flags allow. */
static void fuzz_remove(int dirfd, const char* name) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return;
  int flags = 0;
  ioctl(fd, FS_IOC_SETFLAGS, &flags); /* immutable or append-only: cleared */
  fchmod(fd, 0700);
  DIR* d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return;
  }
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    int child = openat(fd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (child >= 0) {
      ioctl(child, FS_IOC_SETFLAGS, &flags);
      close(child);
    }
    fuzz_remove(fd, e->d_name);
  }
  closedir(d);
  unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Lists what is under `name`, for the log: why a removal failed. */
static void fuzz_list(int at, const char* name, int depth) {
  struct stat st;
  int flags = -1;
  if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    fprintf(stderr, "%*s%s: %s\n", depth * 2, "", name, strerror(errno));
    return;
  }
  int fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) flags = -1;
  fprintf(stderr, "%*s%s: mode 0%o nlink %lu size %lld flags 0x%x\n", depth * 2, "", name, st.st_mode,
          (unsigned long)st.st_nlink, (long long)st.st_size, flags);
  if (fd >= 0 && S_ISDIR(st.st_mode) && depth < 8) {
    DIR* d = fdopendir(fd);
    if (d != NULL) {
      struct dirent* e;
      while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) fuzz_list(dirfd(d), e->d_name, depth + 1);
      closedir(d);
      return;
    }
  }
  if (fd >= 0) close(fd);
}

typedef void (*fuzz_program_t)(void*);

/* Runs a section with the sections' collector on, if it is free. */
static void fuzz_run_section(fuzz_program_t section, void* arg) {
  int recorded = ioctl(FUZZ_SECTION_FD, FUZZ_KCOV_ENABLE, 0) == 0;
  section(arg);
  if (recorded) ioctl(FUZZ_SECTION_FD, FUZZ_KCOV_DISABLE, 0);
}

/* A section of a program that runs in a child process; the caller waits. */
static void fuzz_run_fork(fuzz_program_t section, void* arg) {
  pid_t pid = fork();
  if (pid == 0) {
    fuzz_run_section(section, arg);
    _exit(0);
  }
  if (pid > 0)
    while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {
    }
}

struct fuzz_thread {
  fuzz_program_t section;
  void* arg;
};

static void* fuzz_thread_main(void* p) {
  struct fuzz_thread* t = p;
  fuzz_run_section(t->section, t->arg);
  return NULL;
}

/* A section of a program that runs in a new thread; the caller joins it, so
 * the calls keep one order. */
static void fuzz_run_thread(fuzz_program_t section, void* arg) {
  struct fuzz_thread t = {section, arg};
  pthread_t thread;
  if (pthread_create(&thread, NULL, fuzz_thread_main, &t) == 0) pthread_join(thread, NULL);
}

/* Runs one program in a fresh child, with the collector enabled for it:
 * the area holds its PCs afterwards. Returns the child's wait status. */
/* What outlives a program in the sentry, put back as it was: the mount's
 * root (a program may reach it through "..", a path or an fd) and debugfs's
 * files keep their names, modes, owners, flags, xattrs and sizes across
 * programs, and one program's leftovers must not change the next one's
 * calls. */
static struct stat fuzz_initial[3];
static const char* const fuzz_kept[3] = {FUZZ_MOUNT, "/sys/kernel/debug", FUZZ_KCOV};

static void fuzz_remember(void) {
  for (int i = 0; i < 3; i++)
    if (stat(fuzz_kept[i], &fuzz_initial[i]) != 0) fuzz_die(fuzz_kept[i]);
}

/* Exits FUZZ_STATE_EXIT: the sentry's state is not what a kernel's would be
 * (a name root cannot remove); `ukcov fuzz` reports it as the sentry's. */
#define FUZZ_STATE_EXIT 97

static void fuzz_restore(void) {
  int fd = open(FUZZ_MOUNT, O_RDONLY | O_DIRECTORY);
  if (fd < 0) fuzz_die("open " FUZZ_MOUNT);
  int flags = 0;
  ioctl(fd, FS_IOC_SETFLAGS, &flags);
  char names[4096];
  ssize_t n = flistxattr(fd, names, sizeof names);
  for (ssize_t at = 0; n > 0 && at < n; at += (ssize_t)strlen(names + at) + 1) fremovexattr(fd, names + at);
  DIR* d = fdopendir(dup(fd));
  struct dirent* e;
  while (d != NULL && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) fuzz_remove(fd, e->d_name);
  if (d != NULL) closedir(d);
  /* Listed again from the start (the dup above shared fd's offset). */
  lseek(fd, 0, SEEK_SET);
  d = fdopendir(dup(fd));
  int left = 0;
  while (d != NULL && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      if (!left++) fprintf(stderr, "fuzz runtime: what a program left in " FUZZ_MOUNT " cannot be removed:\n");
      fuzz_list(fd, e->d_name, 1);
    }
  if (d != NULL) closedir(d);
  if (left) exit(FUZZ_STATE_EXIT);
  close(fd);
  /* The host's /tmp, the one writable host directory a program can reach
   * ("../..", a symlink to /tmp): `ukcov fuzz`'s sandbox gives it a fresh
   * tmpfs, where only the mount point, the sandbox's mark and the sentry's
   * own FIFO stand-ins belong. Only there: anywhere else /tmp is a user's. */
  d = access(FUZZ_SANDBOX_MARK, F_OK) == 0 ? opendir("/tmp") : NULL;
  while (d != NULL && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && strcmp(e->d_name, "ukcov-fuzz") != 0 &&
        strcmp(e->d_name, &FUZZ_SANDBOX_MARK[5]) != 0 && strncmp(e->d_name, "ukcov-fifo.", 11) != 0)
      fuzz_remove(dirfd(d), e->d_name);
  if (d != NULL) closedir(d);
  truncate(FUZZ_KCOV, fuzz_initial[2].st_size);
  for (int i = 0; i < 3; i++) {
    chmod(fuzz_kept[i], fuzz_initial[i].st_mode & 07777);
    chown(fuzz_kept[i], fuzz_initial[i].st_uid, fuzz_initial[i].st_gid);
  }
}

static int fuzz_run(fuzz_program_t program, void* arg) {
  /* fuzz_restore ran after the last program (and in fuzz_prepare). */
  if (mkdir(FUZZ_SCRATCH, 0777) != 0) fuzz_die("mkdir " FUZZ_SCRATCH);
  __atomic_store_n(&fuzz_area[0], 0, __ATOMIC_RELAXED);
  __atomic_store_n(&fuzz_section_area[0], 0, __ATOMIC_RELAXED);
  pid_t pid = fork();
  if (pid < 0) fuzz_die("fork");
  fuzz_last_pid = pid;
  if (pid == 0) {
    setpgid(0, 0);
    /* Its standard fds are /dev/null: what a program writes to fd 1 or 2
     * is noise, not the sentry's log. */
    int null = open("/dev/null", O_RDWR);
    if (null < 0) _exit(3);
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    if (null > 2) close(null);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    alarm(FUZZ_PROGRAM_SECONDS);
    for (int i = 0; i < 16; i++) r[i] = -1;
    if (chdir(FUZZ_SCRATCH) != 0) _exit(3);
    /* The collectors' areas are shared with this process's parent: a
     * program's read() through a pointer past its own mapping must not
     * write into them (the sentry writes the PCs through its own mapping). */
    if (mprotect((void*)fuzz_area, FUZZ_COLLECTOR_WORDS * 8, PROT_READ) != 0 ||
        mprotect((void*)fuzz_section_area, FUZZ_COLLECTOR_WORDS * 8, PROT_READ) != 0)
      _exit(3);
    if (ioctl(FUZZ_COLLECTOR_FD, FUZZ_KCOV_ENABLE, 0) != 0) _exit(4);
    program(arg);
    ioctl(FUZZ_COLLECTOR_FD, FUZZ_KCOV_DISABLE, 0);
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
  }
  /* What its sections left running goes too, and is reaped (this process
   * is their subreaper): the program's every task is gone on return. */
  kill(-pid, SIGKILL);
  while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR) {
  }
  /* What it left is removed now, not before the next program: a name root
   * cannot remove is this program's doing (FUZZ_STATE_EXIT). */
  fuzz_restore();
  /* With every task of the program gone, the sentry checks itself; broken,
   * it aborts, and the crash is this program's. */
  ioctl(FUZZ_COLLECTOR_FD, FUZZ_CHECK_INVARIANTS, 0);
  return status;
}

#endif /* UKCOV_FUZZ_RUNTIME_H_ */
