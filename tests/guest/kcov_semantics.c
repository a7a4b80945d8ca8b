/* The kcov file as Linux defines it, checked from inside an unmodified
 * program: errnos of every operation in Linux's order, mappings, fd sharing,
 * ownership, threads, fork, close-after-enable, thread-exit release, a full
 * buffer, CMP records, remote enable's checks, unique and reset modes, bad
 * pointers. One line per check (kcov_guest.h); run on the oracle kernel and
 * under `ukcov run`, the outputs must be identical. */
#include "kcov_guest.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#define WORDS (64 << 10)
#define BYTES (WORDS * 8)

static void file_operations(void) {
  kcov_section = "file_operations";
  int fd = kcov_open();
  EXPECT_YES("open O_RDWR", fd >= 0);
  struct stat st;
  EXPECT_YES("fstat: a regular file, 0600, size 0",
             fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 && st.st_size == 0);
  EXPECT_YES("stat by path: a regular file", stat(KCOV_PATH, &st) == 0 && S_ISREG(st.st_mode));
  char c;
  EXPECT_CALL("read", read(fd, &c, 1), "-1 EINVAL");
  EXPECT_CALL("read of 0 bytes", read(fd, &c, 0), "-1 EINVAL");
  EXPECT_CALL("write", write(fd, &c, 1), "-1 EINVAL");
  EXPECT_CALL("lseek", lseek(fd, 0, SEEK_SET), "-1 ESPIPE");
  EXPECT_CALL("pread", pread(fd, &c, 1, 0), "-1 ESPIPE");
  EXPECT_CALL("pwrite", pwrite(fd, &c, 1, 0), "-1 ESPIPE");
  EXPECT_CALL("pread at offset -1", pread(fd, &c, 1, -1), "-1 EINVAL");
  struct iovec iov = {&c, 1};
  EXPECT_CALL("readv", readv(fd, &iov, 1), "-1 EINVAL");
  EXPECT_CALL("writev", writev(fd, &iov, 1), "-1 EINVAL");
  EXPECT_CALL("fsync", fsync(fd), "-1 EINVAL");
  EXPECT_CALL("fdatasync", fdatasync(fd), "-1 EINVAL");
  char dirent[256];
  EXPECT_CALL("getdents64", syscall(SYS_getdents64, fd, dirent, sizeof dirent), "-1 ENOTDIR");
  EXPECT_CALL("fallocate", fallocate(fd, 0, 0, 4096), "-1 EOPNOTSUPP");
  EXPECT_CALL("sendfile from it", syscall(SYS_sendfile, 1, fd, NULL, 16), "-1 EINVAL");
  EXPECT_CALL("copy_file_range from it", syscall(SYS_copy_file_range, fd, NULL, 1, NULL, 16, 0), "-1 EINVAL");
  EXPECT_CALL("F_ADD_SEALS", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), "-1 EINVAL");
  EXPECT_CALL("F_GET_SEALS", fcntl(fd, F_GET_SEALS), "-1 EINVAL");
  EXPECT_YES("F_GETFL: O_RDWR (and O_LARGEFILE)", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  EXPECT_CALL("flock", flock(fd, LOCK_EX), "0");
  EXPECT_CALL("flock again, unlock", flock(fd, LOCK_UN), "0");
  struct statfs sfs;
  EXPECT_YES("fstatfs: debugfs's magic, a 4096-byte block, NAME_MAX",
             fstatfs(fd, &sfs) == 0 && sfs.f_type == 0x64626720 && sfs.f_bsize == 4096 && sfs.f_namelen == 255);
  EXPECT_CALL("open with a trailing slash", open(KCOV_PATH "/", O_RDWR), "-1 ENOTDIR");
  EXPECT_CALL("open O_DIRECTORY", open(KCOV_PATH, O_RDWR | O_DIRECTORY), "-1 ENOTDIR");
  EXPECT_CALL("open O_CREAT|O_EXCL", open(KCOV_PATH, O_RDWR | O_CREAT | O_EXCL, 0600), "-1 EEXIST");
  int cloexec = open(KCOV_PATH, O_RDWR | O_CLOEXEC);
  EXPECT_YES("open O_CLOEXEC sets FD_CLOEXEC", cloexec >= 0 && (fcntl(cloexec, F_GETFD) & FD_CLOEXEC));
  close(cloexec);
  /* Its /proc/self/fd link opens the device anew: a new instance (Linux's
   * kcov_open), not the one behind fd. */
  EXPECT_CALL("INIT_TRACE", ioctl(fd, KCOV_INIT_TRACE, WORDS), "0");
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  int again = open(link, O_RDWR);
  EXPECT_YES("open /proc/self/fd/N", again >= 0);
  EXPECT_CALL("INIT_TRACE through the reopened file (a new instance)", ioctl(again, KCOV_INIT_TRACE, WORDS), "0");
  close(again);
  int rdonly = open(KCOV_PATH, O_RDONLY);
  EXPECT_YES("open O_RDONLY", rdonly >= 0);
  EXPECT_CALL("read on O_RDONLY", read(rdonly, &c, 1), "-1 EINVAL");
  EXPECT_CALL("write on O_RDONLY", write(rdonly, &c, 1), "-1 EBADF");
  EXPECT_CALL("INIT_TRACE on O_RDONLY", ioctl(rdonly, KCOV_INIT_TRACE, WORDS), "0");
  close(rdonly);
  close(fd);
}

/* The device's inode and directory: debugfs's (fs/debugfs), as Linux
 * registers kcov there. Run last: chmod and truncate change the inode every
 * later open shares. */
static void debugfs(void) {
  kcov_section = "debugfs";
  DIR* dir = opendir(KCOV_DIR);
  int listed = 0;
  for (struct dirent* e; dir != NULL && (e = readdir(dir)) != NULL;)
    if (strcmp(e->d_name, "kcov") == 0) listed = e->d_type == DT_REG;
  EXPECT_YES("the directory lists kcov, a regular file", listed);
  if (dir != NULL) closedir(dir);
  struct stat st;
  EXPECT_YES("the directory: 0700, root's",
             stat(KCOV_DIR, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700 && st.st_uid == 0);
  struct statfs sfs;
  EXPECT_YES("statfs of the directory: debugfs's magic", statfs(KCOV_DIR, &sfs) == 0 && sfs.f_type == 0x64626720);
  EXPECT_CALL("mkdir in it", mkdir(KCOV_DIR "/d", 0755), "-1 EPERM");
  EXPECT_CALL("unlink kcov", unlink(KCOV_PATH), "-1 EPERM");
  EXPECT_CALL("rename kcov", rename(KCOV_PATH, KCOV_DIR "/k"), "-1 EPERM");
  EXPECT_CALL("symlink in it", symlink("kcov", KCOV_DIR "/s"), "-1 EPERM");
  int fd = kcov_open();
  char link[64], target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  target[n > 0 ? n : 0] = 0;
  EXPECT_YES("readlink of /proc/self/fd/N: " KCOV_PATH, strcmp(target, KCOV_PATH) == 0);
  EXPECT_CALL("fsetxattr user.x", fsetxattr(fd, "user.x", "v", 1, 0), "-1 EOPNOTSUPP");
  EXPECT_CALL("fgetxattr user.x", fgetxattr(fd, "user.x", target, sizeof target), "-1 EOPNOTSUPP");
  EXPECT_CALL("flistxattr", flistxattr(fd, target, sizeof target), "0");
  EXPECT_CALL("fchmod 0644", fchmod(fd, 0644), "0");
  EXPECT_YES("fstat after it: 0644", fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0644);
  EXPECT_YES("stat by path: 0644 too", stat(KCOV_PATH, &st) == 0 && (st.st_mode & 07777) == 0644);
  EXPECT_CALL("fchmod back to 0600", fchmod(fd, 0600), "0");
  EXPECT_CALL("ftruncate to 0", ftruncate(fd, 0), "0");
  int path_only = open(KCOV_PATH, O_PATH);
  EXPECT_YES("open O_PATH: F_GETFL is O_PATH", path_only >= 0 && (fcntl(path_only, F_GETFL) & O_PATH));
  EXPECT_CALL("ioctl on the O_PATH fd", ioctl(path_only, KCOV_INIT_TRACE, WORDS), "-1 EBADF");
  EXPECT_YES("fstat of the O_PATH fd: a regular file", fstat(path_only, &st) == 0 && S_ISREG(st.st_mode));
  close(path_only);
  close(fd);
}

static void ioctl_errors(void) {
  kcov_section = "ioctl_errors";
  int fd = kcov_open();
  EXPECT_CALL("ENABLE before INIT_TRACE", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "-1 EINVAL");
  EXPECT_CALL("DISABLE before INIT_TRACE", ioctl(fd, KCOV_DISABLE, 0), "-1 EINVAL");
  EXPECT_CALL("unknown command", ioctl(fd, 0x1234, 0), "-1 ENOTTY");
  EXPECT_CALL("INIT_TRACE in 32-bit encoding", ioctl(fd, 0x80046301, WORDS), "-1 ENOTTY");
  EXPECT_CALL("INIT_TRACE size 0", ioctl(fd, KCOV_INIT_TRACE, 0), "-1 EINVAL");
  EXPECT_CALL("INIT_TRACE size 1", ioctl(fd, KCOV_INIT_TRACE, 1), "-1 EINVAL");
  EXPECT_CALL("INIT_TRACE size INT_MAX/8 + 1", ioctl(fd, KCOV_INIT_TRACE, INT_MAX / 8 + 1), "-1 EINVAL");
  EXPECT_CALL("INIT_TRACE size -1", ioctl(fd, KCOV_INIT_TRACE, (unsigned long)-1), "-1 EINVAL");
  EXPECT_CALL("INIT_TRACE", ioctl(fd, KCOV_INIT_TRACE, WORDS), "0");
  EXPECT_CALL("INIT_TRACE again", ioctl(fd, KCOV_INIT_TRACE, WORDS), "-1 EBUSY");
  EXPECT_CALL("INIT_TRACE again with size 1 (size checked first)", ioctl(fd, KCOV_INIT_TRACE, 1), "-1 EINVAL");
  EXPECT_CALL("ENABLE mode 7", ioctl(fd, KCOV_ENABLE, 7), "-1 EINVAL");
  EXPECT_CALL("ENABLE mode -1", ioctl(fd, KCOV_ENABLE, (unsigned long)-1), "-1 EINVAL");
  EXPECT_CALL("DISABLE when not enabled", ioctl(fd, KCOV_DISABLE, 0), "-1 EINVAL");
  EXPECT_CALL("ENABLE before mmap", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  EXPECT_CALL("INIT_TRACE while enabled", ioctl(fd, KCOV_INIT_TRACE, WORDS), "-1 EBUSY");
  EXPECT_CALL("DISABLE with arg 1", ioctl(fd, KCOV_DISABLE, 1), "-1 EINVAL");
  EXPECT_CALL("unknown command while enabled", ioctl(fd, 0x1234, 0), "-1 ENOTTY");
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  EXPECT_CALL("INIT_TRACE after DISABLE", ioctl(fd, KCOV_INIT_TRACE, WORDS), "-1 EBUSY");
  EXPECT_CALL("REMOTE_ENABLE with a NULL argument", ioctl(fd, KCOV_REMOTE_ENABLE, NULL), "-1 EFAULT");
  EXPECT_CALL("REMOTE_ENABLE with argument 16", ioctl(fd, KCOV_REMOTE_ENABLE, (void*)16), "-1 EFAULT");
  EXPECT_CALL("fstat into a bad pointer", fstat(fd, (struct stat*)8), "-1 EFAULT");
  close(fd);
  EXPECT_CALL("read(-1)", read(-1, NULL, 0), "-1 EBADF");
  EXPECT_CALL("ioctl(-1)", ioctl(-1, KCOV_ENABLE, 0), "-1 EBADF");
  EXPECT_CALL("ioctl on a large fd", ioctl(1000000, KCOV_ENABLE, 0), "-1 EBADF");
  EXPECT_CALL("ioctl on a closed fd", ioctl(fd, KCOV_ENABLE, 0), "-1 EBADF");
  EXPECT_MAP("mmap(-1)", mmap(NULL, 4096, PROT_READ, MAP_SHARED, -1, 0), "-1 EBADF");
  EXPECT_CALL("lseek(-5)", lseek(-5, 0, SEEK_SET), "-1 EBADF");
  EXPECT_CALL("fsync(-1)", fsync(-1), "-1 EBADF");
  EXPECT_CALL("fstat(-1) into NULL", syscall(SYS_fstat, -1, NULL), "-1 EBADF");
  EXPECT_CALL("open of a bad path pointer", open((const char*)8, O_RDONLY), "-1 EFAULT");
}

static void mmap_rules(void) {
  kcov_section = "mmap_rules";
  int fd = kcov_open();
  EXPECT_MAP("mmap before INIT_TRACE", mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 0), "-1 EINVAL");
  ioctl(fd, KCOV_INIT_TRACE, WORDS);
  EXPECT_MAP("mmap of half the area", mmap(NULL, BYTES / 2, PROT_READ, MAP_SHARED, fd, 0), "-1 EINVAL");
  EXPECT_MAP("mmap of twice the area", mmap(NULL, BYTES * 2, PROT_READ, MAP_SHARED, fd, 0), "-1 EINVAL");
  EXPECT_MAP("mmap at offset 4096", mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 4096), "-1 EINVAL");
  EXPECT_MAP("mmap at offset 100", mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 100), "-1 EINVAL");
  uint64_t* rw = mmap(NULL, BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  uint64_t* ro = mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 0);
  EXPECT_YES("a read-write and a read-only mapping", rw != MAP_FAILED && ro != MAP_FAILED);
  if (rw == MAP_FAILED || ro == MAP_FAILED) return;
  rw[WORDS - 1] = 0x1234;
  EXPECT_YES("both map the same memory", ro[WORDS - 1] == 0x1234);
  EXPECT_YES("the area starts zeroed", rw[0] == 0 && rw[1] == 0);
  close(fd);
  rw[WORDS - 2] = 7;
  EXPECT_YES("the mappings outlive the fd", ro[WORDS - 2] == 7);
  munmap(rw, BYTES);
  munmap(ro, BYTES);
  /* A size that is not a multiple of 512 words can never be mapped: the
   * mapping's page-rounded length never equals it. */
  fd = kcov_open();
  EXPECT_CALL("INIT_TRACE of 1000 words", ioctl(fd, KCOV_INIT_TRACE, 1000), "0");
  EXPECT_MAP("mmap of 8000 bytes", mmap(NULL, 8000, PROT_READ, MAP_SHARED, fd, 0), "-1 EINVAL");
  EXPECT_MAP("mmap of 8192 bytes", mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0), "-1 EINVAL");
  EXPECT_CALL("ENABLE without a mapping", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  close(fd);
}

static void trace_pc(void) {
  kcov_section = "trace_pc";
  uint64_t* area;
  int fd = kcov_ready(WORDS, &area);
  EXPECT_YES("open, INIT_TRACE, mmap", fd >= 0);
  if (fd < 0) return;
  EXPECT_CALL("ENABLE", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  /* Counts are read before a line is printed: printing is a traced write. */
  kcov_reset(area);
  int r = read(-1, NULL, 0), e = errno;
  struct kcov_pcs s = kcov_pcs_of(area, WORDS);
  char b[32];
  kcov_line("read(-1)", kcov_result(r, e, b), "-1 EBADF");
  EXPECT_YES("read(-1) recorded PCs", s.n > 0);
  EXPECT_YES("every PC is in the kernel text range", kcov_pcs_all_in_text(&s));
  kcov_pcs_free(&s);
  struct kcov_pcs again = kcov_stable_trace(area, WORDS, kcov_bad_read);
  EXPECT_YES("read(-1) twice in a row: the same PCs", again.n > 0);
  EXPECT_YES("they include every PC read(-1) always records", kcov_holds_read(area, WORDS));
  kcov_pcs_free(&again);
  /* A second mapping of the same fd is the same memory. */
  uint64_t* second = mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd, 0);
  EXPECT_YES("a second mapping shows the trace", second != MAP_FAILED && second[0] == area[0] && second[1] == area[1]);
  /* dup shares the instance: ENABLE through it is EINVAL, DISABLE works. */
  int dupfd = dup(fd);
  EXPECT_CALL("ENABLE through a dup", ioctl(dupfd, KCOV_ENABLE, KCOV_TRACE_PC), "-1 EINVAL");
  EXPECT_CALL("DISABLE through a dup", ioctl(dupfd, KCOV_DISABLE, 0), "0");
  kcov_reset(area);
  (void)read(-1, NULL, 0);
  EXPECT_YES("disabled: nothing more is recorded", kcov_count(area) == 0);
  EXPECT_CALL("ENABLE again, no new mmap", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  kcov_reset(area);
  (void)read(-1, NULL, 0);
  EXPECT_YES("recording again", kcov_holds_read(area, WORDS));
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  if (second != MAP_FAILED) munmap(second, BYTES);
  munmap(area, BYTES);
  close(dupfd);
  close(fd);
}

/* Comparison records: {type, arg1, arg2, pc}. A kernel without comparison
 * coverage (Linux without CONFIG_KCOV_ENABLE_COMPARISONS, ukcov's counters
 * backend) answers ENOTSUPP and stays disabled. */
static void trace_cmp(void) {
  uint64_t* area;
  int fd = kcov_ready(WORDS, &area);
  if (fd < 0) return;
  int r = ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP);
  if (r == -1 && errno == ENOTSUPP) {
    kcov_absent("trace_cmp");
    kcov_section = "trace_cmp";
    EXPECT_CALL("DISABLE after ENOTSUPP", ioctl(fd, KCOV_DISABLE, 0), "-1 EINVAL");
  } else {
    kcov_section = "trace_cmp";
    EXPECT_CALL("ENABLE CMP", r, "0");
    kcov_reset(area);
    (void)read(-1, NULL, 0);
    uint64_t records = kcov_count(area);
    EXPECT_YES("read(-1) recorded comparisons", records > 0);
    int types_ok, pcs_ok;
    kcov_check_cmp_records(area, WORDS, records, &types_ok, &pcs_ok);
    EXPECT_YES("every record's type is at most 7", types_ok);
    EXPECT_YES("every record's PC is in the kernel text range", pcs_ok);
    EXPECT_CALL("ENABLE PC while CMP is on", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "-1 EINVAL");
    EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  }
  munmap(area, BYTES);
  close(fd);
}

/* A small area fills to its last word and stops there. */
static void buffer_full(void) {
  kcov_section = "buffer_full";
  const size_t words = 512;
  uint64_t* area;
  int fd = kcov_ready(words, &area);
  EXPECT_YES("a one-page area", fd >= 0);
  if (fd < 0) return;
  EXPECT_CALL("ENABLE", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  kcov_reset(area);
  int never_over = 1;
  for (int i = 0; i < 2000 && never_over; i++) {
    (void)read(-1, NULL, 0);
    never_over = kcov_count(area) <= words - 1;
  }
  uint64_t n = kcov_count(area);
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  EXPECT_YES("the count never passes size - 1", never_over);
  EXPECT_YES("the count stops at size - 1", n == words - 1);
  struct kcov_pcs s = kcov_pcs_of(area, words);
  EXPECT_YES("every PC is in the kernel text range", kcov_pcs_all_in_text(&s));
  kcov_pcs_free(&s);
  if (ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP) == 0) {
    kcov_reset(area);
    for (int i = 0; i < 2000; i++) (void)read(-1, NULL, 0);
    n = kcov_count(area);
    ioctl(fd, KCOV_DISABLE, 0);
    EXPECT_YES("CMP: the record count stops at (size - 1) / 4", n == (words - 1) / 4);
  } else {
    EXPECT_YES("CMP: the record count stops at (size - 1) / 4", errno == ENOTSUPP);
  }
  munmap(area, words * 8);
  close(fd);
}

static void ownership(void) {
  kcov_section = "ownership";
  uint64_t *a, *b;
  int fa = kcov_ready(WORDS, &a), fb = kcov_ready(WORDS, &b);
  EXPECT_CALL("ENABLE one instance", ioctl(fa, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  EXPECT_CALL("ENABLE a second one on the same thread", ioctl(fb, KCOV_ENABLE, KCOV_TRACE_PC), "-1 EBUSY");
  EXPECT_CALL("ENABLE the second one in mode 7 (EBUSY first)", ioctl(fb, KCOV_ENABLE, 7), "-1 EBUSY");
  struct kcov_remote_arg arg = {.trace_mode = KCOV_TRACE_PC, .area_size = 1024};
  EXPECT_CALL("REMOTE_ENABLE the second one", ioctl(fb, KCOV_REMOTE_ENABLE, &arg), "-1 EBUSY");
  EXPECT_CALL("DISABLE the second one", ioctl(fb, KCOV_DISABLE, 0), "-1 EINVAL");
  kcov_reset(b);
  (void)read(-1, NULL, 0);
  EXPECT_YES("the second one records nothing", kcov_count(b) == 0);
  EXPECT_CALL("DISABLE the first", ioctl(fa, KCOV_DISABLE, 0), "0");
  EXPECT_CALL("now ENABLE the second", ioctl(fb, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  EXPECT_CALL("DISABLE it", ioctl(fb, KCOV_DISABLE, 0), "0");
  munmap(a, BYTES);
  munmap(b, BYTES);
  close(fa);
  close(fb);
}

/* In a thread of its own: after the close it owns an instance it cannot
 * disable, until it exits (as in Linux). */
static void* close_after_enable_thread(void* unused) {
  (void)unused;
  uint64_t* area;
  int fd = kcov_ready(WORDS, &area);
  EXPECT_YES("open, INIT_TRACE, mmap", fd >= 0);
  if (fd < 0) return NULL;
  EXPECT_CALL("ENABLE", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  EXPECT_CALL("close", close(fd), "0");  /* kcovfuzzer closes right after ENABLE */
  kcov_reset(area);
  (void)read(-1, NULL, 0);
  EXPECT_YES("still recording through the mapping", kcov_holds_read(area, WORDS));
  munmap(area, BYTES);
  return NULL;
}

static void close_after_enable(void) {
  kcov_section = "close_after_enable";
  pthread_t t;
  pthread_create(&t, NULL, close_after_enable_thread, NULL);
  pthread_join(t, NULL);
}

struct thread_arg {
  int fd;
  uint64_t* area;
  int enable_result, enable_errno, disable_result, disable_errno;
  int own_holds_read, area_holds_no_read, owner_asleep;
  volatile int progress;
};

/* Not the owner: ENABLE and DISABLE fail; its syscalls do not reach the
 * owner's area. */
static void* not_the_owner(void* p) {
  struct thread_arg* a = p;
  a->enable_result = ioctl(a->fd, KCOV_ENABLE, KCOV_TRACE_PC);
  a->enable_errno = errno;
  a->disable_result = ioctl(a->fd, KCOV_DISABLE, 0);
  a->disable_errno = errno;
  /* Reset the owner's area once it sleeps in pthread_join (see
   * kcov_wait_blocked). */
  a->owner_asleep = kcov_wait_blocked(getpid(), getpid(), SYS_futex);
  kcov_reset(a->area);
  (void)read(-1, NULL, 0);
  a->area_holds_no_read = kcov_holds_no_read(a->area, WORDS);
  return NULL;
}

/* Enables, records, exits without DISABLE. */
static void* enable_and_exit(void* p) {
  struct thread_arg* a = p;
  a->enable_result = ioctl(a->fd, KCOV_ENABLE, KCOV_TRACE_PC);
  a->enable_errno = errno;
  kcov_reset(a->area);
  (void)read(-1, NULL, 0);
  a->own_holds_read = kcov_holds_read(a->area, WORDS);
  return NULL;
}

static void threads(void) {
  kcov_section = "threads";
  uint64_t* area;
  int fd = kcov_ready(WORDS, &area);
  EXPECT_CALL("ENABLE on the main thread", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  struct thread_arg a = {.fd = fd, .area = area};
  pthread_t t;
  pthread_create(&t, NULL, not_the_owner, &a);
  pthread_join(t, NULL);
  char b[32];
  kcov_line("ENABLE on another thread", kcov_result(a.enable_result, a.enable_errno, b), "-1 EINVAL");
  kcov_line("DISABLE on another thread", kcov_result(a.disable_result, a.disable_errno, b), "-1 EINVAL");
  EXPECT_YES("the owner sleeps in pthread_join", a.owner_asleep);
  EXPECT_YES("another thread's read(-1) is not in the owner's area", a.area_holds_no_read);
  EXPECT_CALL("DISABLE on the owner", ioctl(fd, KCOV_DISABLE, 0), "0");
  /* A thread enables, exits without DISABLE: the instance is free again. */
  struct thread_arg e = {.fd = fd, .area = area};
  pthread_create(&t, NULL, enable_and_exit, &e);
  pthread_join(t, NULL);
  kcov_line("ENABLE on a new thread", kcov_result(e.enable_result, e.enable_errno, b), "0");
  EXPECT_YES("it records its own read(-1)", e.own_holds_read);
  int enabled = -1;
  /* pthread_join returns when the thread's tid is cleared, a moment before
   * do_exit releases its kcov (in Linux as under the sentry): poll. */
  for (int i = 0; i < 1000000 && enabled != 0; i++) {
    enabled = ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC);
    if (enabled != 0) sched_yield();
  }
  EXPECT_YES("its exit released the instance: ENABLE here works", enabled == 0);
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  munmap(area, BYTES);
  close(fd);
}

#define NTHREADS 32
static volatile int stop_workers;
static void* busy_worker(void* p) {
  struct thread_arg* a = p;
  a->enable_result = ioctl(a->fd, KCOV_ENABLE, KCOV_TRACE_PC);
  while (!stop_workers) {
    kcov_reset(a->area);
    (void)read(-1, NULL, 0);
    a->own_holds_read = kcov_holds_read(a->area, WORDS);
    __atomic_fetch_add(&a->progress, 1, __ATOMIC_RELEASE);
  }
  return NULL;
}

static void thirty_two_threads(void) {
  kcov_section = "thirty_two_threads";
  /* One idle enabled thread (this one) and 31 busy ones, each with its own
   * fd dup'ed to a fixed number as the syzkaller executor does. */
  static struct thread_arg args[NTHREADS];
  pthread_t tids[NTHREADS];
  uint64_t* mine;
  int fd = kcov_ready(WORDS, &mine);
  EXPECT_YES("dup2 to 215", dup2(fd, 215) == 215);
  close(fd);
  EXPECT_CALL("ENABLE on fd 215", ioctl(215, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  for (int i = 1; i < NTHREADS; i++) {
    args[i].fd = kcov_ready(WORDS, &args[i].area);
    pthread_create(&tids[i], NULL, busy_worker, &args[i]);
  }
  /* From here this thread makes no syscall and touches no new page: it
   * spins until every worker has made 20 calls. Linux may still record
   * return-to-user work in its area when it is preempted, never the
   * workers' calls. */
  kcov_reset(mine);
  for (int i = 1; i < NTHREADS; i++)
    while (__atomic_load_n(&args[i].progress, __ATOMIC_ACQUIRE) < 20) {
    }
  int idle_clean = kcov_holds_no_read(mine, WORDS);
  stop_workers = 1;
  int all_enabled = 1, all_traced = 1;
  for (int i = 1; i < NTHREADS; i++) {
    pthread_join(tids[i], NULL);
    all_enabled &= args[i].enable_result == 0;
    all_traced &= args[i].own_holds_read;
    munmap(args[i].area, BYTES);
    close(args[i].fd);
  }
  EXPECT_YES("31 threads enabled their own instances", all_enabled);
  EXPECT_YES("each recorded its own read(-1)", all_traced);
  EXPECT_YES("the idle enabled thread's area holds none of their calls", idle_clean);
  EXPECT_CALL("DISABLE fd 215", ioctl(215, KCOV_DISABLE, 0), "0");
  munmap(mine, BYTES);
  close(215);
}

static void fork_inheritance(void) {
  kcov_section = "fork";
  uint64_t *area, *area2;
  int fd = kcov_ready(WORDS, &area);
  int fd2 = kcov_ready(WORDS, &area2);
  EXPECT_CALL("ENABLE in the parent", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    /* The child starts with no kcov of its own, but the fds and mappings. */
    kcov_section = "fork: child";
    kcov_failed = 0;
    EXPECT_CALL("DISABLE the parent's instance", ioctl(fd, KCOV_DISABLE, 0), "-1 EINVAL");
    EXPECT_CALL("ENABLE the parent's instance", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "-1 EINVAL");
    EXPECT_YES("the parent sleeps in waitpid", kcov_wait_blocked(getppid(), getppid(), SYS_wait4));
    kcov_reset(area);
    (void)read(-1, NULL, 0);
    EXPECT_YES("its read(-1) is not in the parent's area", kcov_holds_no_read(area, WORDS));
    EXPECT_CALL("ENABLE an inherited, unused instance", ioctl(fd2, KCOV_ENABLE, KCOV_TRACE_PC), "0");
    kcov_reset(area2);
    (void)read(-1, NULL, 0);
    EXPECT_YES("it records the child's read(-1)", kcov_holds_read(area2, WORDS));
    uint64_t* child_map = mmap(NULL, BYTES, PROT_READ, MAP_SHARED, fd2, 0);
    EXPECT_YES("a mapping made after fork is the same memory", child_map != MAP_FAILED && child_map[0] == area2[0]);
    _exit(kcov_failed ? 1 : 0);
  }
  int status;
  EXPECT_YES("the child's checks passed", waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_YES("the parent sees the child's trace", kcov_holds_read(area2, WORDS));
  EXPECT_CALL("ENABLE the child's instance after its exit", ioctl(fd2, KCOV_ENABLE, KCOV_TRACE_PC), "-1 EBUSY");
  kcov_reset(area);
  (void)read(-1, NULL, 0);
  EXPECT_YES("the parent's instance is still the parent's", kcov_holds_read(area, WORDS));
  EXPECT_CALL("DISABLE in the parent", ioctl(fd, KCOV_DISABLE, 0), "0");
  EXPECT_CALL("ENABLE the child's instance now", ioctl(fd2, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  EXPECT_CALL("DISABLE it", ioctl(fd2, KCOV_DISABLE, 0), "0");
  munmap(area, BYTES);
  munmap(area2, BYTES);
  close(fd);
  close(fd2);
}

/* KCOV_REMOTE_ENABLE's checks, in Linux's order. */
static long remote_enable(int fd, uint32_t mode, uint64_t common, int n, const uint64_t* handles) {
  struct kcov_remote_arg* arg = calloc(1, sizeof *arg + 8 * (n > 0 ? n : 1));
  arg->trace_mode = mode;
  arg->area_size = 1024;
  arg->num_handles = n;
  arg->common_handle = common;
  for (int i = 0; i < n && handles; i++) arg->handles[i] = handles[i];
  long r = ioctl(fd, KCOV_REMOTE_ENABLE, arg);
  int e = errno;
  free(arg);
  errno = e;
  return r;
}

struct taker {
  int fd;
  long r;
  int e;
};
static void* take_usb0(void* p) {
  struct taker* t = p;
  uint64_t usb0 = KCOV_SUBSYSTEM_USB | 0;
  t->r = remote_enable(t->fd, KCOV_TRACE_PC, 0, 1, &usb0);
  t->e = errno;
  return NULL;
}

static void remote_checks(void) {
  kcov_section = "remote_enable";
  const uint64_t usb1 = KCOV_SUBSYSTEM_USB | 1, usb2 = KCOV_SUBSYSTEM_USB | 2;
  int fd = kcov_open();
  EXPECT_CALL("before INIT_TRACE", remote_enable(fd, KCOV_TRACE_PC, 0, 0, NULL), "-1 EINVAL");
  ioctl(fd, KCOV_INIT_TRACE, WORDS);
  EXPECT_CALL("257 handles", remote_enable(fd, KCOV_TRACE_PC, 0, 257, NULL), "-1 EINVAL");
  EXPECT_CALL("trace mode 5", remote_enable(fd, 5, 0, 1, &usb1), "-1 EINVAL");
  uint64_t common1 = KCOV_SUBSYSTEM_COMMON | 1;
  EXPECT_CALL("a common handle among the handles", remote_enable(fd, KCOV_TRACE_PC, 0, 1, &common1), "-1 EINVAL");
  uint64_t middle = KCOV_SUBSYSTEM_USB | (1ull << 40);
  EXPECT_CALL("a handle with bits 32..55 set", remote_enable(fd, KCOV_TRACE_PC, 0, 1, &middle), "-1 EINVAL");
  uint64_t subsystem7 = (7ull << 56) | 1;
  EXPECT_CALL("a handle of an unknown subsystem", remote_enable(fd, KCOV_TRACE_PC, 0, 1, &subsystem7), "-1 EINVAL");
  EXPECT_CALL("a USB handle as the common handle", remote_enable(fd, KCOV_TRACE_PC, usb1, 0, NULL), "-1 EINVAL");
  uint64_t twice[2] = {usb1, usb1};
  EXPECT_CALL("the same handle twice", remote_enable(fd, KCOV_TRACE_PC, 0, 2, twice), "-1 EEXIST");
  uint64_t usb0 = KCOV_SUBSYSTEM_USB | 0;
  EXPECT_CALL("USB bus 0 and a common handle", remote_enable(fd, KCOV_TRACE_PC, 0x4242, 1, &usb0), "0");
  EXPECT_CALL("ENABLE after REMOTE_ENABLE", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "-1 EINVAL");
  EXPECT_CALL("REMOTE_ENABLE again", remote_enable(fd, KCOV_TRACE_PC, 0, 1, &usb2), "-1 EINVAL");
  /* A handle is registered once, system-wide: another instance, enabled on
   * another thread (this one owns one), cannot take it. */
  struct taker taker = {kcov_open(), 0, 0};
  ioctl(taker.fd, KCOV_INIT_TRACE, WORDS);
  pthread_t t;
  pthread_create(&t, NULL, take_usb0, &taker);
  pthread_join(t, NULL);
  char b[32];
  kcov_line("another instance takes a registered handle", kcov_result(taker.r, taker.e, b), "-1 EEXIST");
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  int other = taker.fd;
  EXPECT_CALL("another instance takes the freed handles", remote_enable(other, KCOV_TRACE_PC, 0x4242, 1, &usb0), "0");
  EXPECT_CALL("DISABLE it", ioctl(other, KCOV_DISABLE, 0), "0");
  /* Header readable, handles not: the copy of the whole argument faults. */
  long page = sysconf(_SC_PAGESIZE);
  char* two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mprotect(two + page, page, PROT_NONE);
  struct kcov_remote_arg* edge = (struct kcov_remote_arg*)(two + page - sizeof(struct kcov_remote_arg));
  edge->trace_mode = KCOV_TRACE_PC;
  edge->area_size = 1024;
  edge->num_handles = 1;
  edge->common_handle = 0;
  EXPECT_CALL("handles past the end of readable memory", ioctl(fd, KCOV_REMOTE_ENABLE, edge), "-1 EFAULT");
  edge->num_handles = 0;
  EXPECT_CALL("no handles, the header at the end of readable memory", ioctl(fd, KCOV_REMOTE_ENABLE, edge), "0");
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  munmap(two, 2 * page);
  close(other);
  close(fd);
}

/* KCOV_RESET_TRACE and KCOV_UNIQUE_ENABLE, the 2025 series: a kernel
 * without it answers ENOTTY. */
static void reset_trace(void) {
  uint64_t* area;
  int fd = kcov_ready(WORDS, &area);
  if (ioctl(fd, KCOV_RESET_TRACE, 0) == -1 && errno == ENOTTY) {
    kcov_absent("reset_trace");
  } else {
    kcov_section = "reset_trace";
    EXPECT_CALL("RESET_TRACE when not enabled", ioctl(fd, KCOV_RESET_TRACE, 0), "-1 EINVAL");
    EXPECT_CALL("ENABLE", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
    (void)read(-1, NULL, 0);
    uint64_t before = kcov_count(area);
    int r = ioctl(fd, KCOV_RESET_TRACE, 0);
    uint64_t after = kcov_count(area);
    EXPECT_CALL("RESET_TRACE", r, "0");
    EXPECT_YES("the count is rewound, then the ioctl's own return path is traced", after > 0 && after < before);
    EXPECT_CALL("RESET_TRACE with arg 1", ioctl(fd, KCOV_RESET_TRACE, 1), "-1 EINVAL");
    EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  }
  munmap(area, BYTES);
  close(fd);
}

static void unique_mode(void) {
  uint64_t* area;
  int fd = kcov_ready(WORDS, &area);
  int r = ioctl(fd, KCOV_UNIQUE_ENABLE, 4096);
  if (r == -1 && (errno == ENOTTY || errno == ENOTSUPP)) {
    /* ENOTSUPP: a build without guards, as Linux without CONFIG_KCOV_UNIQUE. */
    kcov_absent("unique_mode");
  } else {
    kcov_section = "unique_mode";
    EXPECT_CALL("UNIQUE_ENABLE with a 4096-word bitmap", r, "0");
    /* A bitmap, then the trace; a repeated syscall adds nothing. */
    uint64_t* trace = area + 4096;
    memset(area, 0, 4096 * 8);
    kcov_reset(trace);
    for (int i = 0; i < 3; i++) (void)read(-1, NULL, 0);
    uint64_t n = kcov_count(trace);
    for (int i = 0; i < 100; i++) (void)read(-1, NULL, 0);
    EXPECT_YES("read(-1) recorded once, then nothing new", n > 0 && kcov_count(trace) == n);
    int reset = ioctl(fd, KCOV_RESET_TRACE, 0);
    uint64_t after = kcov_count(trace);
    EXPECT_CALL("RESET_TRACE", reset, "0");
    EXPECT_YES("the trace restarts", after > 0 && after < n + 10);
    EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
    EXPECT_CALL("UNIQUE_ENABLE with a 0-word bitmap", ioctl(fd, KCOV_UNIQUE_ENABLE, 0), "-1 EINVAL");
    EXPECT_CALL("UNIQUE_ENABLE with a bitmap of size - 1 words", ioctl(fd, KCOV_UNIQUE_ENABLE, WORDS - 1), "-1 EINVAL");
  }
  munmap(area, BYTES);
  close(fd);
}

int main(void) {
  kcov_section = "setup";
  EXPECT_YES("read(-1)'s PCs, single- and multi-threaded, each twice the same", kcov_measure_read());
  file_operations();
  ioctl_errors();
  mmap_rules();
  trace_pc();
  trace_cmp();
  buffer_full();
  ownership();
  close_after_enable();
  threads();
  thirty_two_threads();
  fork_inheritance();
  remote_checks();
  reset_trace();
  unique_mode();
  debugfs();
  return kcov_summary("kcov_semantics");
}
