/* tmpfs conformance: one line per case (return value, errno name, and what
 * the case observed), run natively in a directory on a real tmpfs and under
 * `ukcov run --tmpfs DIR`; tests/guest/run_conformance.sh compares the two
 * outputs line by line. Usage: tmpfs_conformance DIR (DIR empty). */
#define _GNU_SOURCE
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <linux/stat.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/falloc.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>
#include <utime.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char* errname(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(EBADF) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENOTDIR) E(EISDIR) E(EINVAL)
    E(EFBIG) E(ENOSPC) E(ESPIPE) E(EMLINK) E(ENAMETOOLONG) E(ENOTEMPTY) E(ELOOP) E(ENXIO) E(EOPNOTSUPP) E(ENODATA) E(ERANGE) E(EAGAIN) E(E2BIG) E(EADDRINUSE) E(ECONNREFUSED)
#undef E
    default: return "E?";
  }
}

/* A case: its name, the call's result, and errno when it failed. */
#define CASE(name, call)                                                          \
  do {                                                                            \
    errno = 0;                                                                    \
    long r_ = (long)(call);                                                       \
    printf("%-40s %ld %s\n", name, r_ < 0 ? -1L : r_, r_ < 0 ? errname(errno) : "-"); \
  } while (0)
#define SHOW(name, fmt, ...) printf("%-40s " fmt "\n", name, __VA_ARGS__)

/* fallocate(0, LEN) of a new file, removed again; errno kept. */
static int fallocate_new(const char* path, off_t len) {
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return -1;
  int r = fallocate(fd, 0, 0, len);
  int e = errno;
  close(fd);
  unlink(path);
  errno = e;
  return r;
}

static int put(const char* path, const char* data) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  ssize_t n = write(fd, data, strlen(data));
  close(fd);
  return (int)n;
}

static void show_file(const char* name, const char* path) {
  char buf[256] = {0};
  int fd = open(path, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  SHOW(name, "%zd [%s]", n, n > 0 ? buf : "");
}

static void show_stat(const char* name, const char* path, int follow) {
  struct stat st;
  int r = follow ? stat(path, &st) : lstat(path, &st);
  if (r != 0) {
    SHOW(name, "-1 %s", errname(errno));
    return;
  }
  SHOW(name, "mode=%o nlink=%lu size=%lld", st.st_mode, (unsigned long)st.st_nlink, (long long)st.st_size);
}

/* Names in a directory, in getdents64 order. */
static void show_dir(const char* name, const char* path) {
  char out[1024] = "";
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    SHOW(name, "-1 %s", errname(errno));
    return;
  }
  char buf[4096];
  long n;
  while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      struct dirent64* d = (struct dirent64*)(buf + off);
      strncat(out, d->d_name, sizeof out - strlen(out) - 2);
      strcat(out, d->d_type == DT_DIR ? "/ " : d->d_type == DT_LNK ? "@ " : d->d_type == DT_FIFO ? "| "
                  : d->d_type == DT_SOCK ? "= " : d->d_type == DT_CHR ? "% " : " ");
      off += d->d_reclen;
    }
  }
  close(fd);
  SHOW(name, "%s", out);
}

static char target_buffer[128];
static long sendfile_call(int out, int in, size_t n) { return syscall(SYS_sendfile, out, in, NULL, n); }

static void files(void) {
  CASE("open missing", open("f", O_RDONLY));
  CASE("creat new", creat("f", 0644) >= 0);
  CASE("open O_EXCL existing", open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
  CASE("open O_DIRECTORY on file", open("f", O_RDONLY | O_DIRECTORY));
  CASE("open file with trailing slash", open("f/", O_RDONLY));
  CASE("open O_CREAT trailing slash", open("g/", O_CREAT | O_WRONLY, 0644));
  CASE("open O_CREAT on dir", open(".", O_CREAT | O_WRONLY, 0644));
  CASE("open dir O_WRONLY", open(".", O_WRONLY));
  CASE("open dir O_RDWR", open(".", O_RDWR));
  CASE("open through a file", open("f/x", O_RDONLY));
  CASE("open empty path", open("", O_RDONLY));
  char longname[300];
  memset(longname, 'n', 256);
  longname[256] = 0;
  CASE("open name of 256 bytes", open(longname, O_CREAT | O_WRONLY, 0644));
  longname[255] = 0;
  int lfd = open(longname, O_CREAT | O_WRONLY, 0644);
  CASE("open name of 255 bytes", lfd >= 0);
  close(lfd);
  CASE("unlink name of 255 bytes", unlink(longname));
  show_stat("stat new file", "f", 1);

  int fd = open("f", O_RDWR);
  CASE("write", write(fd, "hello world", 11));
  CASE("lseek cur after write", lseek(fd, 0, SEEK_CUR));
  CASE("read at EOF", read(fd, longname, 10));
  CASE("lseek set 6", lseek(fd, 6, SEEK_SET));
  char buf[64] = {0};
  CASE("read 5", read(fd, buf, 5));
  SHOW("read 5 data", "[%s]", buf);
  CASE("lseek end -5", lseek(fd, -5, SEEK_END));
  CASE("lseek negative", lseek(fd, -100, SEEK_SET));
  CASE("lseek bad whence", lseek(fd, 0, 17));
  /* Found by ukcov fuzz (UBSan: the sentry's cur + offset overflowed). */
  CASE("lseek set LLONG_MAX", lseek(fd, 0x7fffffffffffffffLL, SEEK_SET));
  CASE("lseek cur past LLONG_MAX", lseek(fd, 4096, SEEK_CUR));
  CASE("lseek end past LLONG_MAX", lseek(fd, 0x7fffffffffffffffLL, SEEK_END));
  CASE("write at LLONG_MAX", write(fd, "x", 1));
  lseek(fd, 6, SEEK_SET);
  CASE("pwrite at 20 (hole)", pwrite(fd, "xyz", 3, 20));
  show_stat("stat after hole", "f", 1);
  memset(buf, 'q', sizeof buf);
  CASE("pread over hole", pread(fd, buf, 30, 0));
  SHOW("pread hole bytes", "%d %d %d", buf[11], buf[19], buf[20]);
  CASE("pread beyond EOF", pread(fd, buf, 10, 1000));
  CASE("pread negative offset", pread(fd, buf, 10, -1));
  CASE("write bad buffer", write(fd, (void*)8, 10));
  CASE("read bad buffer", pread(fd, (void*)8, 10, 0));
  char a[] = "AB", b[] = "CDE";
  struct iovec iov[2] = {{a, 2}, {b, 3}};
  CASE("pwritev", pwritev(fd, iov, 2, 2));
  char c[3] = {0}, d[4] = {0};
  struct iovec riov[2] = {{c, 2}, {d, 3}};
  CASE("preadv", preadv(fd, riov, 2, 0));
  SHOW("preadv data", "[%s][%s]", c, d);
  CASE("readv iovcnt too big", readv(fd, riov, 1025));
  CASE("lseek SEEK_DATA beyond EOF", lseek(fd, 100, SEEK_DATA));
  CASE("ftruncate grow", ftruncate(fd, 100));
  show_stat("stat after ftruncate", "f", 1);
  CASE("ftruncate negative", ftruncate(fd, -1));
  CASE("truncate shrink", truncate("f", 5));
  show_file("contents after truncate", "f");
  CASE("truncate dir", truncate(".", 0));
  CASE("truncate missing", truncate("nope", 0));
  close(fd);

  int ro = open("f", O_RDONLY);
  CASE("write on O_RDONLY", write(ro, "x", 1));
  CASE("ftruncate on O_RDONLY", ftruncate(ro, 0));
  close(ro);
  int wo = open("f", O_WRONLY);
  CASE("read on O_WRONLY", read(wo, buf, 1));
  close(wo);
  int ap = open("f", O_WRONLY | O_APPEND);
  CASE("lseek 0 then append write", lseek(ap, 0, SEEK_SET) == 0 && write(ap, "++", 2) == 2);
  CASE("offset after append", lseek(ap, 0, SEEK_CUR));
  close(ap);
  show_file("contents after append", "f");
  int tr = open("f", O_RDWR | O_TRUNC);
  show_stat("stat after O_TRUNC", "f", 1);
  close(tr);
  int dirfd = open(".", O_RDONLY | O_DIRECTORY);
  CASE("read on dir", read(dirfd, buf, 1));
  CASE("lseek dir SEEK_END", lseek(dirfd, 0, SEEK_END));
  close(dirfd);
  int cl = open("f", O_RDONLY | O_CLOEXEC);
  CASE("O_CLOEXEC sets FD_CLOEXEC", fcntl(cl, F_GETFD));
  CASE("F_GETFL access mode", fcntl(cl, F_GETFL) & O_ACCMODE);
  close(cl);
  CASE("unlink f", unlink("f"));
}

static void directories(void) {
  CASE("mkdir d", mkdir("d", 0755));
  CASE("mkdir d again", mkdir("d", 0755));
  CASE("mkdir with trailing slash", mkdir("e/", 0700));
  CASE("mkdir dot", mkdir(".", 0755));
  CASE("mkdir under missing", mkdir("nope/x", 0755));
  put("file", "data");
  CASE("mkdir under file", mkdir("file/x", 0755));
  CASE("mkdir d/sub", mkdir("d/sub", 0700));
  show_stat("stat d", "d", 1);
  show_stat("stat e", "e", 1);
  CASE("rmdir non-empty", rmdir("d"));
  CASE("rmdir file", rmdir("file"));
  CASE("rmdir dot", rmdir("d/sub/."));
  CASE("rmdir dotdot", rmdir("d/sub/.."));
  CASE("rmdir missing", rmdir("nope"));
  CASE("unlink dir", unlink("d"));
  CASE("unlinkat AT_REMOVEDIR", unlinkat(AT_FDCWD, "e", AT_REMOVEDIR));
  CASE("unlinkat bad flag", unlinkat(AT_FDCWD, "file", 0x1000));
  CASE("rmdir d/sub", rmdir("d/sub"));
  show_stat("stat d after rmdir", "d", 1);
  put("d/one", "1");
  put("d/two", "2");
  CASE("mkdir d/three", mkdir("d/three", 0755));
  show_dir("list d", "d");
  /* getdents offsets stay valid while the directory changes. */
  int fd = open("d", O_RDONLY | O_DIRECTORY);
  char buf[64];  /* room for "." and ".." only */
  long n = syscall(SYS_getdents64, fd, buf, 48);
  SHOW("getdents small buffer", "%ld", n);
  unlink("d/one");
  put("d/four", "4");
  char rest[1024] = "";
  char big[4096];
  while ((n = syscall(SYS_getdents64, fd, big, sizeof big)) > 0)
    for (long off = 0; off < n;) {
      struct dirent64* e = (struct dirent64*)(big + off);
      strcat(rest, e->d_name);
      strcat(rest, " ");
      off += e->d_reclen;
    }
  SHOW("getdents rest after changes", "%s", rest);
  CASE("getdents buffer too small", syscall(SYS_getdents64, fd, buf, 8) < 0 ? -1 : 0);
  CASE("lseek dir rewind", lseek(fd, 0, SEEK_SET));
  CASE("getdents bad buffer", syscall(SYS_getdents64, fd, (void*)8, 4096));
  close(fd);
  int f = open("file", O_RDONLY);
  CASE("getdents on file", syscall(SYS_getdents64, f, big, sizeof big));
  close(f);
}

static void names(void) {
  put("n1", "first");
  CASE("link n1 n2", link("n1", "n2"));
  show_stat("stat n1 after link", "n1", 1);
  CASE("link to existing", link("n1", "n2"));
  CASE("link dir", link("d", "dlink"));
  CASE("link missing", link("missing", "x"));
  CASE("unlink n1", unlink("n1"));
  show_stat("stat n2 after unlink n1", "n2", 1);
  show_file("n2 contents", "n2");
  /* Open, unlink, still readable. */
  int fd = open("n2", O_RDONLY);
  CASE("unlink open file", unlink("n2"));
  char buf[16] = {0};
  CASE("read unlinked file", read(fd, buf, sizeof buf - 1));
  struct stat st;
  fstat(fd, &st);
  SHOW("fstat unlinked nlink", "%lu", (unsigned long)st.st_nlink);
  close(fd);
  CASE("symlink s -> d", symlink("d", "s"));
  CASE("symlink to existing", symlink("x", "s"));
  CASE("symlink empty target", symlink("", "empty"));
  char target[64] = {0};
  CASE("readlink s", readlink("s", target, sizeof target));
  SHOW("readlink s data", "[%s]", target);
  memset(target, 0, sizeof target);
  CASE("readlink truncated", readlink("s", target, 1));
  CASE("readlink on file", readlink("file", target, sizeof target));
  CASE("readlink zero size", readlink("s", target, 0));
  show_stat("lstat s", "s", 0);
  show_stat("stat s", "s", 1);
  show_file("read through symlink dir", "s/two");
  CASE("symlink dangling", symlink("nowhere", "dangling"));
  CASE("open dangling", open("dangling", O_RDONLY));
  CASE("open O_CREAT through dangling", close(open("dangling", O_CREAT | O_WRONLY, 0644)));
  show_stat("stat created through dangling", "nowhere", 1);
  CASE("open O_NOFOLLOW on symlink", open("s", O_RDONLY | O_NOFOLLOW));
  int p = open("s", O_PATH | O_NOFOLLOW);
  CASE("O_PATH|O_NOFOLLOW on symlink", p >= 0);
  CASE("read on O_PATH", read(p, buf, 1));
  close(p);
  CASE("symlink loop a", symlink("loop_b", "loop_a"));
  CASE("symlink loop b", symlink("loop_a", "loop_b"));
  CASE("open loop", open("loop_a", O_RDONLY));
  CASE("stat through trailing slash on symlink to dir", stat("s/", &st));
  CASE("unlink symlink", unlink("s"));
  CASE("lstat d still there", lstat("d", &st));
}

static void renames(void) {
  put("r1", "one");
  put("r2", "two");
  CASE("rename file over file", rename("r1", "r2"));
  show_file("r2 after rename", "r2");
  CASE("rename missing", rename("r1", "r3"));
  mkdir("rd1", 0755);
  mkdir("rd2", 0755);
  mkdir("rd3", 0755);
  put("rd3/x", "x");
  CASE("rename dir over empty dir", rename("rd1", "rd2"));
  CASE("rename dir over non-empty dir", rename("rd2", "rd3"));
  CASE("rename file over dir", rename("r2", "rd3"));
  CASE("rename dir over file", rename("rd3", "r2"));
  CASE("rename dir into itself", rename("rd3", "rd3/sub"));
  CASE("rename to same", rename("r2", "r2"));
  CASE("rename dot", rename(".", "xx"));
  put("r4", "four");
  CASE("renameat2 NOREPLACE existing", syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "r2", RENAME_NOREPLACE));
  CASE("renameat2 EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "r2", RENAME_EXCHANGE));
  show_file("r2 after exchange", "r2");
  show_file("r4 after exchange", "r4");
  CASE("renameat2 EXCHANGE missing", syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "nothere", RENAME_EXCHANGE));
  CASE("renameat2 both flags", syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "r2", RENAME_EXCHANGE | RENAME_NOREPLACE));
  CASE("renameat2 bad flag", syscall(SYS_renameat2, AT_FDCWD, "r4", AT_FDCWD, "r2", 0x100));
  CASE("rename file to dir/", rename("r4", "r5/"));
  CASE("rename into subdir", rename("r4", "rd3/r4"));
  show_dir("list rd3", "rd3");
  show_stat("stat rd2 (moved) ", "rd2", 1);
}

static void attributes(void) {
  put("m", "mode");
  CASE("chmod 0600", chmod("m", 0600));
  show_stat("stat after chmod", "m", 1);
  CASE("chmod missing", chmod("missing", 0600));
  int fd = open("m", O_RDONLY);
  CASE("fchmod 0640", fchmod(fd, 0640));
  close(fd);
  show_stat("stat after fchmod", "m", 1);
  CASE("access F_OK", access("m", F_OK));
  CASE("access missing", access("missing", F_OK));
  CASE("access bad mode", access("m", 8));
  CASE("access X_OK on 0640 (root)", access("m", X_OK));
  chmod("m", 0700);
  CASE("access X_OK on 0700 (root)", access("m", X_OK));
  CASE("faccessat2 bad flag", syscall(SYS_faccessat2, AT_FDCWD, "m", R_OK, 0x8000));
  /* As an unprivileged user. */
  mkdir("locked", 0755);
  put("locked/f", "x");
  chmod("locked/f", 0600);
  mkdir("sticky", 01777);
  put("sticky/root_file", "x");
  chmod("sticky/root_file", 0666);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(1);
    CASE("nobody: open 0600 root file", open("locked/f", O_RDONLY));
    CASE("nobody: create in 0755 root dir", open("locked/g", O_CREAT | O_WRONLY, 0644));
    CASE("nobody: mkdir in 0755 root dir", mkdir("locked/sub", 0755));
    CASE("nobody: unlink in 0755 root dir", unlink("locked/f"));
    CASE("nobody: access W_OK", access("locked/f", W_OK));
    CASE("nobody: chmod root file", chmod("locked/f", 0777));
    CASE("nobody: create in sticky dir", close(open("sticky/mine", O_CREAT | O_WRONLY, 0644)));
    CASE("nobody: unlink other's file in sticky dir", unlink("sticky/root_file"));
    CASE("nobody: write other's 0666 file", put("sticky/root_file", "y"));
    CASE("nobody: unlink own file in sticky dir", unlink("sticky/mine"));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  SHOW("nobody child exit", "%d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void mappings(void) {
  put("mm", "0123456789");
  int fd = open("mm", O_RDWR);
  char* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CASE("mmap shared", shared != MAP_FAILED);
  if (shared == MAP_FAILED) return;
  SHOW("mapping sees file", "[%.10s]", shared);
  CASE("pwrite after mmap", pwrite(fd, "AB", 2, 0));
  SHOW("mapping sees write", "[%.10s]", shared);
  memcpy(shared + 5, "xy", 2);
  char buf[16] = {0};
  CASE("pread sees mapping store", pread(fd, buf, 10, 0));
  SHOW("pread data", "[%s]", buf);
  char* private = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  CASE("mmap private", private != MAP_FAILED);
  private[0] = 'P';
  memset(buf, 0, sizeof buf);
  pread(fd, buf, 10, 0);
  SHOW("private store stays private", "[%s] [%.10s]", buf, private);
  munmap(private, 4096);
  munmap(shared, 4096);
  close(fd);
  int ro = open("mm", O_RDONLY);
  CASE("mmap shared writable on O_RDONLY", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED ? -1 : 0);
  CASE("mmap private writable on O_RDONLY", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0) == MAP_FAILED ? -1 : 0);
  close(ro);
  int wo = open("mm", O_WRONLY);
  CASE("mmap on O_WRONLY", mmap(NULL, 4096, PROT_READ, MAP_SHARED, wo, 0) == MAP_FAILED ? -1 : 0);
  close(wo);
  int d = open(".", O_RDONLY);
  CASE("mmap a directory", mmap(NULL, 4096, PROT_READ, MAP_SHARED, d, 0) == MAP_FAILED ? -1 : 0);
  close(d);
  /* A file grown through ftruncate, written through the mapping, unlinked
   * while mapped: the data stays until unmapped. */
  int g = open("grow", O_RDWR | O_CREAT, 0644);
  CASE("ftruncate for mapping", ftruncate(g, 8192));
  char* m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);
  close(g);
  CASE("unlink mapped file", unlink("grow"));
  if (m != MAP_FAILED) {
    m[8000] = 'z';
    SHOW("unlinked mapping still usable", "%c", m[8000]);
    munmap(m, 8192);
  }
}

static void show_times(const char* name, const char* path) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    SHOW(name, "-1 %s", errname(errno));
    return;
  }
  SHOW(name, "atime=%lld.%09ld mtime=%lld.%09ld", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static void owners_times_space(void) {
  put("own", "x");
  chmod("own", 04755);
  CASE("chown 1000:1000", chown("own", 1000, 1000));
  show_stat("stat after chown (suid dropped)", "own", 1);
  struct stat st;
  stat("own", &st);
  SHOW("owner after chown", "%u:%u", st.st_uid, st.st_gid);
  CASE("chown -1:-1", chown("own", -1, -1));
  CASE("chown missing", chown("missing", 0, 0));
  symlink("own", "own_link");
  CASE("lchown symlink", lchown("own_link", 7, 7));
  lstat("own_link", &st);
  SHOW("symlink owner", "%u:%u", st.st_uid, st.st_gid);
  stat("own_link", &st);
  SHOW("target owner unchanged", "%u:%u", st.st_uid, st.st_gid);
  CASE("fchownat bad flag", fchownat(AT_FDCWD, "own", 0, 0, 0x2));
  int fd = open("own", O_RDONLY);
  CASE("fchown", fchown(fd, 2000, -1));
  close(fd);
  stat("own", &st);
  SHOW("owner after fchown", "%u:%u", st.st_uid, st.st_gid);

  put("tm", "times");
  struct timespec ts[2] = {{1000000000, 111}, {1200000000, 222}};
  CASE("utimensat explicit", utimensat(AT_FDCWD, "tm", ts, 0));
  show_times("times after utimensat", "tm");
  struct timespec omit[2] = {{0, UTIME_OMIT}, {5, 0}};
  CASE("utimensat omit atime", utimensat(AT_FDCWD, "tm", omit, 0));
  show_times("times after omit", "tm");
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  CASE("utimensat bad nsec", utimensat(AT_FDCWD, "tm", bad, 0));
  CASE("utimensat bad flag", utimensat(AT_FDCWD, "tm", NULL, 0x1));
  CASE("utimensat missing", utimensat(AT_FDCWD, "missing", NULL, 0));
  struct timeval tv[2] = {{300, 5}, {400, 6}};
  CASE("utimes", utimes("tm", tv));
  show_times("times after utimes", "tm");
  struct timeval badtv[2] = {{300, 1000000}, {400, 6}};
  CASE("utimes bad usec", utimes("tm", badtv));
  struct utimbuf ub = {500, 600};
  CASE("utime", utime("tm", &ub));
  show_times("times after utime", "tm");
  int tfd = open("tm", O_RDONLY);
  struct timespec fts[2] = {{700, 7}, {800, 8}};
  CASE("futimens", futimens(tfd, fts));
  close(tfd);
  show_times("times after futimens", "tm");
  CASE("lutimes on symlink", utimensat(AT_FDCWD, "own_link", ts, AT_SYMLINK_NOFOLLOW));
  show_times("symlink times", "own_link");
  chmod("tm", 0666);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(1);
    CASE("nobody: utimensat NOW on 0666 file", utimensat(AT_FDCWD, "tm", NULL, 0));
    CASE("nobody: utimensat explicit on other's file", utimensat(AT_FDCWD, "tm", ts, 0));
    CASE("nobody: chown other's file", chown("tm", 65534, 65534));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);

  int f = open("fa", O_RDWR | O_CREAT, 0644);
  CASE("fallocate 8192", fallocate(f, 0, 0, 8192));
  show_stat("stat after fallocate", "fa", 1);
  CASE("fallocate KEEP_SIZE beyond", fallocate(f, FALLOC_FL_KEEP_SIZE, 8192, 8192));
  show_stat("stat after KEEP_SIZE", "fa", 1);
  pwrite(f, "abcdefgh", 8, 4096);
  CASE("fallocate PUNCH_HOLE", fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096));
  char buf[8];
  pread(f, buf, 8, 4096);
  SHOW("punched bytes", "%d %d", buf[0], buf[7]);
  CASE("fallocate PUNCH without KEEP_SIZE", fallocate(f, FALLOC_FL_PUNCH_HOLE, 0, 4096));
  CASE("fallocate ZERO_RANGE", fallocate(f, FALLOC_FL_ZERO_RANGE, 0, 4096));
  CASE("fallocate zero length", fallocate(f, 0, 0, 0));
  CASE("fallocate negative offset", fallocate(f, 0, -1, 10));
  CASE("SEEK_HOLE from 0", lseek(f, 0, SEEK_HOLE));
  CASE("SEEK_DATA from the hole", lseek(f, 4096, SEEK_DATA));
  close(f);
  int r = open("fa", O_RDONLY);
  CASE("fallocate on O_RDONLY", fallocate(r, 0, 0, 10));
  close(r);

  struct statfs sfs;
  CASE("statfs", statfs(".", &sfs));
  SHOW("statfs fields", "type=%lx bsize=%ld namelen=%ld", (long)sfs.f_type, (long)sfs.f_bsize, (long)sfs.f_namelen);
  int sd = open(".", O_RDONLY);
  CASE("fstatfs", fstatfs(sd, &sfs));
  close(sd);
  CASE("statfs missing", statfs("missing", &sfs));
  // Mounted without size= or nr_inodes=: half of RAM in pages each
  // (shmem_default_max_blocks/_inodes), and nothing grows past it.
  struct sysinfo si;
  sysinfo(&si);
  unsigned long half = (unsigned long)((unsigned long long)si.totalram * si.mem_unit / 4096 / 2);
  SHOW("statfs default limits", "blocks half of RAM: %s, files half of RAM: %s", sfs.f_blocks == half ? "yes" : "no",
       sfs.f_files == half ? "yes" : "no");
  CASE("fallocate past the default size", fallocate_new("big", (off_t)(sfs.f_blocks + 1) * 4096));
}

static void tmpfiles_and_locks(void) {
  int t = open(".", O_TMPFILE | O_RDWR, 0600);
  CASE("O_TMPFILE", t >= 0);
  CASE("write O_TMPFILE", write(t, "tmp", 3));
  struct stat st;
  fstat(t, &st);
  SHOW("O_TMPFILE nlink and size", "%lu %lld", (unsigned long)st.st_nlink, (long long)st.st_size);
  CASE("linkat AT_EMPTY_PATH", linkat(t, "", AT_FDCWD, "named_tmp", AT_EMPTY_PATH));
  show_file("linked tmpfile", "named_tmp");
  fstat(t, &st);
  SHOW("nlink after linkat", "%lu", (unsigned long)st.st_nlink);
  close(t);
  int x = open(".", O_TMPFILE | O_RDWR | O_EXCL, 0600);
  CASE("linkat O_TMPFILE|O_EXCL", linkat(x, "", AT_FDCWD, "never", AT_EMPTY_PATH));
  close(x);
  CASE("O_TMPFILE read-only", open(".", O_TMPFILE | O_RDONLY, 0600));
  CASE("O_TMPFILE on a file", open("named_tmp", O_TMPFILE | O_RDWR, 0600));
  CASE("O_TMPFILE missing dir", open("nodir", O_TMPFILE | O_RDWR, 0600));

  int d = open(".", O_RDONLY | O_DIRECTORY);
  CASE("F_GETFL on a directory", fcntl(d, F_GETFL));
  close(d);
  int p = open("named_tmp", O_PATH);
  CASE("F_GETFL on O_PATH", fcntl(p, F_GETFL));
  CASE("F_SETFL on O_PATH", fcntl(p, F_SETFL, O_NONBLOCK));
  CASE("flock on O_PATH", flock(p, LOCK_EX));
  CASE("fstat on O_PATH", fstat(p, &st));
  close(p);
  int a = open("named_tmp", O_RDWR);
  CASE("F_SETFL O_APPEND", fcntl(a, F_SETFL, O_APPEND | O_NONBLOCK));
  CASE("F_GETFL after F_SETFL", fcntl(a, F_GETFL));
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  CASE("F_SETLK write lock", fcntl(a, F_SETLK, &fl));
  CASE("flock LOCK_EX", flock(a, LOCK_EX));
  int b = open("named_tmp", O_RDWR);
  CASE("flock second description LOCK_NB", flock(b, LOCK_EX | LOCK_NB));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    struct flock want = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
    CASE("child: F_SETLK conflicting", fcntl(b, F_SETLK, &want));
    struct flock probe = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    CASE("child: F_GETLK", fcntl(b, F_GETLK, &probe));
    SHOW("child: F_GETLK type and range", "%d %lld %lld", probe.l_type, (long long)probe.l_start, (long long)probe.l_len);
    struct flock free_range = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 5};
    CASE("child: F_SETLK free range", fcntl(b, F_SETLK, &free_range));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  close(b);
  close(a);
}

static void xattrs(void) {
  put("xa", "x");
  CASE("setxattr user.a", setxattr("xa", "user.a", "one", 3, 0));
  char v[64] = {0};
  CASE("getxattr user.a", getxattr("xa", "user.a", v, sizeof v));
  SHOW("getxattr value", "[%s]", v);
  CASE("getxattr size query", getxattr("xa", "user.a", NULL, 0));
  CASE("getxattr too small", getxattr("xa", "user.a", v, 1));
  CASE("getxattr missing", getxattr("xa", "user.none", v, sizeof v));
  CASE("setxattr XATTR_CREATE existing", setxattr("xa", "user.a", "two", 3, XATTR_CREATE));
  CASE("setxattr XATTR_REPLACE missing", setxattr("xa", "user.b", "two", 3, XATTR_REPLACE));
  CASE("setxattr bad flags", setxattr("xa", "user.b", "two", 3, 4));
  CASE("setxattr empty name", setxattr("xa", "", "two", 3, 0));
  CASE("setxattr unknown namespace", setxattr("xa", "bogus.b", "two", 3, 0));
  CASE("setxattr trusted (root)", setxattr("xa", "trusted.t", "tt", 2, 0));
  CASE("setxattr security", setxattr("xa", "security.s", "ss", 2, 0));
  CASE("setxattr value too big", setxattr("xa", "user.big", v, 65537, 0));
  CASE("setxattr empty value", setxattr("xa", "user.empty", "", 0, 0));
  CASE("getxattr empty value", getxattr("xa", "user.empty", v, sizeof v));
  char list[256];
  long n = listxattr("xa", list, sizeof list);
  /* Sorted, to compare whatever order the filesystem keeps. */
  char* names[16];
  int k = 0;
  for (long i = 0; i < n && k < 16; i += (long)strlen(list + i) + 1) names[k++] = list + i;
  for (int i = 0; i < k; i++)
    for (int j = i + 1; j < k; j++)
      if (strcmp(names[i], names[j]) > 0) {
        char* t = names[i];
        names[i] = names[j];
        names[j] = t;
      }
  char joined[256] = "";
  for (int i = 0; i < k; i++) {
    strcat(joined, names[i]);
    strcat(joined, " ");
  }
  SHOW("listxattr", "%ld %s", n, joined);
  CASE("listxattr size query", listxattr("xa", NULL, 0));
  CASE("listxattr too small", listxattr("xa", list, 3));
  CASE("removexattr user.a", removexattr("xa", "user.a"));
  CASE("removexattr missing", removexattr("xa", "user.a"));
  CASE("getxattr ACL none", getxattr("xa", "system.posix_acl_access", v, sizeof v));
  symlink("xa", "xa_link");
  CASE("lsetxattr user on symlink", lsetxattr("xa_link", "user.l", "l", 1, 0));
  CASE("lgetxattr user on symlink", lgetxattr("xa_link", "user.l", v, sizeof v));
  CASE("getxattr through symlink", getxattr("xa_link", "user.empty", v, sizeof v));
  CASE("setxattr on dir", setxattr(".", "user.d", "d", 1, 0));
  CASE("setxattr missing file", setxattr("missing", "user.d", "d", 1, 0));
  int fd = open("xa", O_RDONLY);
  CASE("fsetxattr", fsetxattr(fd, "user.f", "f", 1, 0));
  CASE("fgetxattr", fgetxattr(fd, "user.f", v, sizeof v));
  CASE("fremovexattr", fremovexattr(fd, "user.f"));
  close(fd);
  int p = open("xa", O_PATH);
  CASE("fgetxattr on O_PATH", fgetxattr(p, "user.empty", v, sizeof v));
  close(p);
  chmod("xa", 0644);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(1);
    CASE("nobody: setxattr user on 0644 root file", setxattr("xa", "user.n", "n", 1, 0));
    CASE("nobody: getxattr user", getxattr("xa", "user.empty", v, sizeof v));
    CASE("nobody: getxattr trusted", getxattr("xa", "trusted.t", v, sizeof v));
    CASE("nobody: setxattr trusted", setxattr("xa", "trusted.n", "n", 1, 0));
    CASE("nobody: listxattr hides trusted", listxattr("xa", list, sizeof list));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
}

/* Bad pointers, lengths, flags and fds everywhere: errors, never a crash. */
static void bad_input(void) {
  const char* bad = (const char*)8;
  void* badbuf = (void*)8;
  put("bi", "data");
  int fd = open("bi", O_RDWR);
  CASE("open bad path pointer", open(bad, O_RDONLY));
  CASE("openat bad dirfd", openat(999, "bi", O_RDONLY));
  CASE("openat dirfd is a file", openat(fd, "x", O_RDONLY));
  CASE("stat bad path", stat(bad, (struct stat*)badbuf));
  CASE("stat bad buffer", stat("bi", (struct stat*)badbuf));
  CASE("fstat bad buffer", fstat(fd, (struct stat*)badbuf));
  CASE("statx bad buffer", syscall(SYS_statx, AT_FDCWD, "bi", 0, 0x7ff, badbuf));
  CASE("newfstatat bad flags", syscall(SYS_newfstatat, AT_FDCWD, "bi", badbuf, 0x80000000));
  CASE("mkdir bad path", mkdir(bad, 0755));
  CASE("rmdir bad path", rmdir(bad));
  CASE("unlink bad path", unlink(bad));
  CASE("rename bad old", rename(bad, "x"));
  CASE("rename bad new", rename("bi", bad));
  CASE("link bad new", link("bi", bad));
  CASE("symlink bad target", symlink(bad, "sl"));
  CASE("readlink bad buffer", (symlink("bi", "bi_link"), readlink("bi_link", badbuf, 10)));
  CASE("readlink negative size", syscall(SYS_readlink, "bi_link", target_buffer, -1));
  CASE("getdents bad fd", syscall(SYS_getdents64, 999, target_buffer, 100));
  CASE("read bad fd", read(999, target_buffer, 1));
  CASE("write huge count bad buffer", write(fd, badbuf, (size_t)-1 / 2));
  CASE("pwrite negative offset", pwrite(fd, "x", 1, -5));
  CASE("preadv bad iovec array", preadv(fd, (struct iovec*)badbuf, 2, 0));
  struct iovec neg = {target_buffer, (size_t)-1};
  CASE("readv negative length", readv(fd, &neg, 1));
  CASE("lseek huge SEEK_CUR", lseek(fd, 0x7fffffffffffffffLL, SEEK_CUR) < 0 ? -1 : 0);
  CASE("ftruncate huge", ftruncate(fd, 0x7fffffffffffffffLL));
  CASE("truncate bad path", truncate(bad, 0));
  CASE("chmod bad path", chmod(bad, 0644));
  CASE("chown bad path", chown(bad, 0, 0));
  CASE("utimensat bad times", utimensat(AT_FDCWD, "bi", (struct timespec*)badbuf, 0));
  CASE("access bad path", access(bad, F_OK));
  CASE("getcwd bad buffer", syscall(SYS_getcwd, badbuf, 4096));
  CASE("statfs bad buffer", statfs("bi", (struct statfs*)badbuf));
  CASE("setxattr bad value", setxattr("bi", "user.x", badbuf, 10, 0));
  CASE("getxattr bad buffer", (setxattr("bi", "user.y", "v", 1, 0), getxattr("bi", "user.y", badbuf, 10)));
  CASE("listxattr bad buffer", listxattr("bi", badbuf, 100));
  CASE("fallocate bad mode", fallocate(fd, 0x1000, 0, 10));
  CASE("renameat2 bad dirfd", syscall(SYS_renameat2, 999, "bi", AT_FDCWD, "x", 0));
  CASE("linkat bad flags", linkat(AT_FDCWD, "bi", AT_FDCWD, "x", 0x1));
  CASE("fchmodat bad dirfd", fchmodat(999, "bi", 0644, 0));
  CASE("unlinkat relative to a file fd", unlinkat(fd, "x", 0));
  close(fd);
  CASE("use after close", read(fd, target_buffer, 1));
}

/* Bytes moved by the host between struct files: the sizes and data the
 * sentry reports afterwards are the file's. */
static void copies(void) {
  put("src", "0123456789abcdef");
  int in = open("src", O_RDONLY);
  int out = open("dst", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  CASE("copy_file_range", copy_file_range(in, NULL, out, NULL, 10, 0));
  show_stat("stat after copy_file_range", "dst", 1);
  CASE("sendfile", sendfile_call(out, in, 6));
  show_stat("stat after sendfile", "dst", 1);
  show_file("dst contents", "dst");
  int pipefd[2];
  pipe(pipefd);
  write(pipefd[1], "PIPE", 4);
  CASE("splice pipe to file", splice(pipefd[0], NULL, out, NULL, 4, 0));
  show_stat("stat after splice", "dst", 1);
  CASE("lseek SEEK_END after splice", lseek(out, 0, SEEK_END));
  int d = open(".", O_RDONLY);
  CASE("copy_file_range from a directory", copy_file_range(d, NULL, out, NULL, 4, 0));
  close(d);
  close(pipefd[0]);
  close(pipefd[1]);
  close(in);
  close(out);
  show_file("dst after all", "dst");
}

static long openat2_call(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
  long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  if (fd >= 0) close((int)fd);
  return fd >= 0 ? 0 : -1;
}

static void openat2_cases(void) {
  mkdir("o2", 0755);
  mkdir("o2/in", 0755);
  put("o2/in/f", "inside");
  put("outside", "outside");
  symlink("/etc/passwd", "o2/abs_link");
  symlink("../outside", "o2/escape_link");
  symlink("in/f", "o2/ok_link");
  symlink("/in/f", "o2/root_link");
  int root = open("o2", O_RDONLY | O_DIRECTORY);
  CASE("openat2 BENEATH inside", openat2_call(root, "in/f", O_RDONLY, 0, RESOLVE_BENEATH));
  CASE("openat2 BENEATH ..", openat2_call(root, "../outside", O_RDONLY, 0, RESOLVE_BENEATH));
  CASE("openat2 BENEATH in/../in/f", openat2_call(root, "in/../in/f", O_RDONLY, 0, RESOLVE_BENEATH));
  CASE("openat2 BENEATH absolute", openat2_call(root, "/etc/passwd", O_RDONLY, 0, RESOLVE_BENEATH));
  CASE("openat2 BENEATH absolute symlink", openat2_call(root, "abs_link", O_RDONLY, 0, RESOLVE_BENEATH));
  CASE("openat2 BENEATH escaping symlink", openat2_call(root, "escape_link", O_RDONLY, 0, RESOLVE_BENEATH));
  CASE("openat2 BENEATH relative symlink", openat2_call(root, "ok_link", O_RDONLY, 0, RESOLVE_BENEATH));
  CASE("openat2 IN_ROOT absolute", openat2_call(root, "/in/f", O_RDONLY, 0, RESOLVE_IN_ROOT));
  CASE("openat2 IN_ROOT .. at root", openat2_call(root, "../../in/f", O_RDONLY, 0, RESOLVE_IN_ROOT));
  CASE("openat2 IN_ROOT absolute symlink", openat2_call(root, "root_link", O_RDONLY, 0, RESOLVE_IN_ROOT));
  CASE("openat2 IN_ROOT symlink to missing", openat2_call(root, "abs_link", O_RDONLY, 0, RESOLVE_IN_ROOT));
  CASE("openat2 NO_SYMLINKS", openat2_call(root, "ok_link", O_RDONLY, 0, RESOLVE_NO_SYMLINKS));
  symlink("/", "o2/slash_link");
  struct open_how in_root = {.flags = O_RDONLY | O_DIRECTORY, .resolve = RESOLVE_IN_ROOT};
  long at_slash = syscall(SYS_openat2, root, "slash_link", &in_root, sizeof in_root);
  struct stat at_slash_st, root_st;
  fstat((int)at_slash, &at_slash_st);
  fstat(root, &root_st);
  SHOW("openat2 IN_ROOT link to / is the start", "%d",
       at_slash >= 0 && at_slash_st.st_ino == root_st.st_ino && at_slash_st.st_dev == root_st.st_dev);
  if (at_slash >= 0) close((int)at_slash);
  CASE("openat2 BENEATH|IN_ROOT", openat2_call(root, "in/f", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT));
  CASE("openat2 unknown resolve bit", openat2_call(root, "in/f", O_RDONLY, 0, 0x1000));
  CASE("openat2 unknown flag bit", openat2_call(root, "in/f", 1ull << 40, 0, 0));
  CASE("openat2 mode without O_CREAT", openat2_call(root, "in/f", O_RDONLY, 0644, 0));
  CASE("openat2 bad mode bits", openat2_call(root, "in/g", O_CREAT | O_WRONLY, 010000, 0));
  CASE("openat2 O_PATH|O_RDWR", openat2_call(root, "in/f", O_PATH | O_RDWR, 0, 0));
  CASE("openat2 RESOLVE_CACHED|O_CREAT", openat2_call(root, "in/g", O_CREAT | O_WRONLY, 0644, RESOLVE_CACHED));
  CASE("open O_CREAT|O_DIRECTORY", open("o2/newdir", O_CREAT | O_DIRECTORY, 0755));
  struct open_how how = {.flags = O_RDONLY};
  CASE("openat2 size too small", syscall(SYS_openat2, root, "in/f", &how, 8));
  struct { struct open_how h; uint64_t extra; } big = {{.flags = O_RDONLY}, 0};
  long fd = syscall(SYS_openat2, root, "in/f", &big, sizeof big);
  CASE("openat2 larger struct, zero tail", fd >= 0 ? (close((int)fd), 0) : -1);
  big.extra = 1;
  CASE("openat2 larger struct, non-zero tail", syscall(SYS_openat2, root, "in/f", &big, sizeof big));
  CASE("openat2 bad how pointer", syscall(SYS_openat2, root, "in/f", (void*)8, sizeof how));
  close(root);
}

/* Host paths reached through the tmpfs: a tmpfs symlink to a host file or
 * directory, and ".." out of the mount after names inside it. Linux walks
 * them to the host; so must the sentry. */
static void through_to_host(void) {
  char host_dir[64];
  snprintf(host_dir, sizeof host_dir, "/dev/shm/ukcov-conf-host-%d", (int)getpid());
  mkdir(host_dir, 0755);
  CASE("symlink to a host file", symlink("/etc/hostname", "to_host_file"));
  struct stat st, direct;
  CASE("stat through it", stat("to_host_file", &st));
  stat("/etc/hostname", &direct);
  SHOW("same inode as the host's", "%d", st.st_ino == direct.st_ino && st.st_dev == direct.st_dev);
  int fd = open("to_host_file", O_RDONLY);
  CASE("open through it", fd >= 0);
  char buf[256];
  SHOW("read through it matches", "%d", fd >= 0 && read(fd, buf, sizeof buf) == direct.st_size);
  if (fd >= 0) close(fd);
  mkdir("up", 0755);
  CASE("stat up/../.. (out of the mount)", stat("up/../..", &st));
  SHOW("up/../.. is the parent of the directory", "%d", S_ISDIR(st.st_mode));
  CASE("symlink to a host directory", symlink(host_dir, "hs"));
  CASE("mkdir through it", mkdir("hs/new", 0750));
  show_stat("stat made through it", "hs/new", 1);
  CASE("rmdir through it", rmdir("hs/new"));
  CASE("create through it", put("hs/f", "host data"));
  show_file("read back through it", "hs/f");
  CASE("rename through it", rename("hs/f", "hs/g"));
  CASE("link through it", link("hs/g", "hs/h"));
  show_stat("stat linked through it", "hs/h", 1);
  CASE("chmod through it", chmod("hs/g", 0600));
  CASE("truncate through it", truncate("hs/g", 4));
  show_stat("stat after chmod and truncate", "hs/g", 1);
  struct timespec ts[2] = {{100, 0}, {200, 0}};
  CASE("utimensat through it", utimensat(AT_FDCWD, "hs/g", ts, 0));
  show_times("times through it", "hs/g");
  CASE("access through it", access("hs/g", R_OK));
  CASE("symlink through it", symlink("g", "hs/l"));
  char target[32] = {0};
  CASE("readlink through it", readlink("hs/l", target, sizeof target));
  SHOW("readlink data", "[%s]", target);
  struct statfs sfs;
  CASE("statfs through it", statfs("hs", &sfs));
  CASE("setxattr through it", setxattr("hs/g", "user.via", "v", 1, 0));
  char xv[8] = {0};
  CASE("getxattr through it", getxattr("hs/g", "user.via", xv, sizeof xv));
  CASE("listxattr through it", listxattr("hs/g", NULL, 0) > 0 ? 0 : -1);
  CASE("removexattr through it", removexattr("hs/g", "user.via"));
  CASE("removexattr missing through it", removexattr("hs/g", "user.via"));
  CASE("unlink through it", unlink("hs/l") | unlink("hs/h") | unlink("hs/g"));
  CASE("unlink missing through it", unlink("hs/none"));
  rmdir(host_dir);
}

/* Linux's own counts and clocks: 40 symlinks and no more, AT_EMPTY_PATH,
 * the time stamps a call moves (compared as before/after, not as values),
 * and a description shared by dup and fork. */
static int later(struct timespec a, struct timespec b) {
  return b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec > a.tv_nsec);
}

static void counts_and_clocks(void) {
  mkdir("chain", 0755);
  put("chain/l0", "end of the chain");
  char from[32], to[32];
  for (int i = 1; i <= 41; i++) {
    snprintf(from, sizeof from, "l%d", i - 1);
    snprintf(to, sizeof to, "chain/l%d", i);
    symlink(from, to);
  }
  show_file("through 40 symlinks", "chain/l40");
  show_file("through 41 symlinks", "chain/l41");
  int fd = open("chain/l0", O_RDONLY);
  struct stat st;
  CASE("fstatat AT_EMPTY_PATH", fstatat(fd, "", &st, AT_EMPTY_PATH));
  CASE("fstatat empty path without the flag", fstatat(fd, "", &st, 0));
  int pipefd[2];
  pipe(pipefd);
  CASE("fstatat AT_EMPTY_PATH on a pipe", fstatat(pipefd[1], "", &st, AT_EMPTY_PATH));
  CASE("fstatat relative to a pipe", fstatat(pipefd[1], "x", &st, 0));
  close(pipefd[0]);
  close(pipefd[1]);
  close(fd);

  put("clock", "0");
  struct stat a, b;
  stat("clock", &a);
  struct timespec pause = {0, 20 * 1000 * 1000};
  nanosleep(&pause, NULL);  /* clocks must be able to move between the two stats */
  int w = open("clock", O_WRONLY | O_APPEND);
  write(w, "1", 1);
  close(w);
  stat("clock", &b);
  SHOW("write: mtime, ctime, atime moved", "%d %d %d", later(a.st_mtim, b.st_mtim), later(a.st_ctim, b.st_ctim),
       later(a.st_atim, b.st_atim));
  nanosleep(&pause, NULL);
  chmod("clock", 0600);
  stat("clock", &a);
  SHOW("chmod: mtime, ctime moved", "%d %d", later(b.st_mtim, a.st_mtim), later(b.st_ctim, a.st_ctim));
  nanosleep(&pause, NULL);
  char c;
  int r = open("clock", O_RDONLY);
  read(r, &c, 1);
  close(r);
  stat("clock", &b);
  SHOW("read after write: atime moved (relatime)", "%d", later(a.st_atim, b.st_atim));
  struct stat d0, d1;
  stat(".", &d0);
  nanosleep(&pause, NULL);
  put("clock2", "x");
  stat(".", &d1);
  SHOW("create: directory mtime, ctime moved", "%d %d", later(d0.st_mtim, d1.st_mtim), later(d0.st_ctim, d1.st_ctim));
  nanosleep(&pause, NULL);
  rename("clock2", "clock3");
  stat("clock3", &a);
  SHOW("rename: the file's ctime moved", "%d", later(d1.st_ctim, a.st_ctim));

  int one = open("clock", O_RDWR);
  int two = dup(one);
  lseek(one, 1, SEEK_SET);
  CASE("dup shares the offset", lseek(two, 0, SEEK_CUR));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    lseek(one, 0, SEEK_END);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  CASE("fork shares the offset", lseek(two, 0, SEEK_CUR));
  CASE("F_SETFL through one, seen by the other", (fcntl(one, F_SETFL, O_APPEND), fcntl(two, F_GETFL) & O_APPEND));
  close(one);
  close(two);
  CASE("fchmodat2 AT_SYMLINK_NOFOLLOW on a symlink", syscall(452, AT_FDCWD, "chain/l1", 0600, AT_SYMLINK_NOFOLLOW));
  CASE("fchmodat2 AT_SYMLINK_NOFOLLOW on a file", syscall(452, AT_FDCWD, "clock", 0640, AT_SYMLINK_NOFOLLOW));
  show_stat("stat after fchmodat2", "clock", 1);
  CASE("fchmodat2 bad flags", syscall(452, AT_FDCWD, "clock", 0640, 0x4));
}

/* /proc/self/fd/N: a new open file description of the same inode. */
static void magic_links(void) {
  put("ml", "0123456789");
  int a = open("ml", O_RDONLY);
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", a);
  int b = open(link, O_RDWR);
  CASE("reopen through /proc/self/fd", b >= 0);
  struct stat sa, sb;
  fstat(a, &sa);
  fstat(b, &sb);
  SHOW("same inode", "%d", sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev);
  lseek(a, 4, SEEK_SET);
  CASE("a new description: its own offset", lseek(b, 0, SEEK_CUR));
  CASE("and its own access mode", write(b, "AB", 2));
  show_file("written through the reopened fd", "ml");
  CASE("O_CREAT|O_EXCL through /proc/self/fd", open(link, O_CREAT | O_EXCL | O_RDWR, 0644));
  CASE("O_DIRECTORY through /proc/self/fd of a file", open(link, O_RDONLY | O_DIRECTORY));
  unlink("ml");
  int c = open(link, O_RDONLY);
  CASE("reopen of an unlinked file", c >= 0);
  char buf[16] = {0};
  CASE("reads its data", read(c, buf, 10));
  SHOW("data", "[%s]", buf);
  int p = open(".", O_PATH | O_DIRECTORY);
  snprintf(link, sizeof link, "/proc/self/fd/%d", p);
  int d = open(link, O_RDONLY | O_DIRECTORY);
  CASE("reopen an O_PATH directory for reading", d >= 0);
  CASE("and list it", syscall(SYS_getdents64, d, buf, 8) < 0 ? -1 : 0);
  snprintf(link, sizeof link, "/proc/self/fd/%d", 999);
  CASE("a closed fd's link", open(link, O_RDONLY));
  close(a);
  close(b);
  close(c);
  close(d);
  close(p);
}

/* mknod: FIFOs that pass data, sockets and device nodes that stat. */
static void special_files(void) {
  CASE("mkfifo", mkfifo("fifo", 0640));
  show_stat("stat fifo", "fifo", 1);
  CASE("mkfifo existing", mkfifo("fifo", 0640));
  int r = open("fifo", O_RDONLY | O_NONBLOCK);
  CASE("open fifo for reading, nonblocking", r >= 0);
  int w = open("fifo", O_WRONLY | O_NONBLOCK);
  CASE("open fifo for writing with a reader", w >= 0);
  CASE("write into the fifo", write(w, "pipe", 4));
  char buf[8] = {0};
  CASE("read from the fifo", read(r, buf, sizeof buf - 1));
  SHOW("fifo data", "[%s]", buf);
  close(w);
  close(r);
  CASE("open fifo for writing without a reader", open("fifo", O_WRONLY | O_NONBLOCK));
  int rw = open("fifo", O_RDWR);
  CASE("open fifo read-write", rw >= 0);
  close(rw);
  CASE("rename fifo", rename("fifo", "fifo2"));
  CASE("unlink fifo", unlink("fifo2"));
  CASE("mknod socket", mknod("sock", S_IFSOCK | 0600, 0));
  show_stat("stat socket", "sock", 1);
  CASE("open a socket node", open("sock", O_RDONLY));
  CASE("mknod regular (type 0)", mknod("plainnode", 0644, 0));
  show_stat("stat regular node", "plainnode", 1);
  CASE("mknod a directory", mknod("dirnode", S_IFDIR | 0755, 0));
  CASE("mknod bad type", mknod("badnode", 0170000 | 0644, 0));
  CASE("mknod char device (root)", mknod("null_like", S_IFCHR | 0666, makedev(1, 3)));
  struct stat st;
  stat("null_like", &st);
  SHOW("device number", "%u:%u", major(st.st_rdev), minor(st.st_rdev));
  CASE("mknodat through a missing dir", mknodat(AT_FDCWD, "nodir/x", S_IFIFO | 0600, 0));
  /* AF_UNIX sockets bound and connected by a tmpfs path. */
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, "usock");
  int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  CASE("bind a unix socket in the tmpfs", bind(srv, (struct sockaddr*)&addr, sizeof addr));
  show_stat("stat the bound socket", "usock", 1);
  int other = socket(AF_UNIX, SOCK_STREAM, 0);
  CASE("bind to the same path", bind(other, (struct sockaddr*)&addr, sizeof addr));
  close(other);
  CASE("listen", listen(srv, 4));
  int cli = socket(AF_UNIX, SOCK_STREAM, 0);
  CASE("connect by the tmpfs path", connect(cli, (struct sockaddr*)&addr, sizeof addr));
  int acc = accept(srv, NULL, NULL);
  CASE("accept", acc >= 0);
  CASE("send through it", write(cli, "sock", 4));
  char sbuf[8] = {0};
  CASE("receive", read(acc, sbuf, sizeof sbuf - 1));
  SHOW("socket data", "[%s]", sbuf);
  close(acc);
  close(cli);
  close(srv);
  struct sockaddr_un to_file = {.sun_family = AF_UNIX};
  strcpy(to_file.sun_path, "plainnode");
  int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
  CASE("connect to a regular file", connect(c2, (struct sockaddr*)&to_file, sizeof to_file));
  strcpy(to_file.sun_path, "sock");
  CASE("connect to a socket nobody listens on", connect(c2, (struct sockaddr*)&to_file, sizeof to_file));
  strcpy(to_file.sun_path, "nosuch");
  CASE("connect to a missing path", connect(c2, (struct sockaddr*)&to_file, sizeof to_file));
  strcpy(to_file.sun_path, "nodir/s");
  CASE("bind in a missing directory", bind(c2, (struct sockaddr*)&to_file, sizeof to_file));
  close(c2);
  CASE("unlink the socket", unlink("usock"));
  show_dir("list with special files", ".");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(1);
    CASE("nobody: mknod char device", mknod("sticky/dev", S_IFCHR | 0600, makedev(1, 3)));
    CASE("nobody: mkfifo in sticky dir", mkfifo("sticky/myfifo", 0600));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
}

static char base[4096];

/* getcwd, with the mount's own path shown as BASE (it differs between the
 * native run and the sentry's). */
/* A path the case got (NULL: the call failed), the test directory written
 * BASE. */
static void show_based(const char* name, const char* path) {
  if (path == NULL) {
    SHOW(name, "-1 %s", errname(errno));
    return;
  }
  size_t n = strlen(base);
  SHOW(name, "%s%s", strncmp(path, base, n) == 0 ? "BASE" : "", strncmp(path, base, n) == 0 ? path + n : path);
}

static void show_cwd(const char* name) {
  char cwd[4096];
  show_based(name, getcwd(cwd, sizeof cwd));
}

static void working_directory(void) {
  int base_fd = open(".", O_RDONLY | O_DIRECTORY);
  mkdir("wd", 0755);
  mkdir("wd/sub", 0755);
  CASE("chdir wd/sub", chdir("wd/sub"));
  show_cwd("getcwd in wd/sub");
  CASE("create relative to cwd", put("here", "in sub"));
  show_file("read via full relative path", "../sub/here");
  show_stat("stat dotdot from cwd", "..", 1);
  CASE("chdir to a file", chdir("here"));
  CASE("chdir missing", chdir("nope"));
  CASE("chdir ..", chdir(".."));
  show_cwd("getcwd in wd");
  show_dir("list cwd", ".");
  int sub_fd = open("sub", O_RDONLY | O_DIRECTORY);
  CASE("fchdir to sub", fchdir(sub_fd));
  show_cwd("getcwd after fchdir");
  CASE("openat dirfd relative", close(openat(sub_fd, "here", O_RDONLY)));
  close(sub_fd);
  CASE("unlink here", unlink("here"));
  CASE("rmdir cwd via parent", rmdir("../sub"));
  show_cwd("getcwd of removed dir");
  CASE("create in removed cwd", open("x", O_CREAT | O_WRONLY, 0644));
  char small[4];
  CASE("fchdir back to base", fchdir(base_fd));
  CASE("getcwd small buffer", getcwd(small, sizeof small) == NULL ? -1 : 0);
  show_cwd("getcwd back at base");
  close(base_fd);
}

/* readlink of a /proc link, the test directory written BASE. */
static void show_link(const char* name, const char* path) {
  char target[4096] = {0};
  show_based(name, readlink(path, target, sizeof target - 1) < 0 ? NULL : target);
}

/* /proc's links lead the guest to its own things: /proc/self, /dev/fd/N,
 * /proc/PID/fd/N (a jump to the file, whatever its name or state),
 * /proc/self/cwd; and a directory whose name is gone stays usable as a cwd
 * only for what Linux allows in a dead directory. */
static void proc_links(void) {
  int base_fd = open(".", O_RDONLY | O_DIRECTORY);
  mkdir("pl", 0755);
  mkdir("pl/gone", 0755);
  int gone = open("pl/gone", O_RDONLY | O_DIRECTORY);
  int pl = open("pl", O_RDONLY | O_DIRECTORY);
  CASE("rmdir pl/gone (held open)", rmdir("pl/gone"));
  char lnk[96];
  snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", gone);
  CASE("chdir into /proc/self/fd of it", chdir(lnk));
  show_cwd("getcwd in a removed dir");
  CASE("create in it", open("x", O_CREAT | O_WRONLY, 0644));
  CASE("mkdir in it", mkdir("d", 0755));
  struct stat st;
  CASE("stat . there", stat(".", &st));
  SHOW("its nlink", "%lu", (unsigned long)st.st_nlink);
  CASE("stat .. there", stat("..", &st));
  CASE("chdir .. from it", chdir(".."));
  show_cwd("getcwd after ..");
  CASE("fchdir back to base", fchdir(base_fd));
  snprintf(lnk, sizeof lnk, "/proc/self/fd/%d/made", pl);
  CASE("create through /proc/self/fd/N/name", close(open(lnk, O_CREAT | O_WRONLY, 0600)));
  show_stat("what it made", "pl/made", 0);
  snprintf(lnk, sizeof lnk, "/dev/fd/%d/sub", pl);
  CASE("mkdir through /dev/fd/N/name", mkdir(lnk, 0700));
  snprintf(lnk, sizeof lnk, "/proc/%d/fd/%d/sub", (int)getpid(), pl);
  show_stat("stat through /proc/PID/fd/N", lnk, 1);
  CASE("chdir through /proc/PID/fd/N", chdir(lnk));
  show_cwd("getcwd there");
  CASE("chdir /proc/self/cwd", chdir("/proc/self/cwd"));
  show_cwd("getcwd after /proc/self/cwd");
  show_stat("stat /proc/self/cwd/..", "/proc/self/cwd/..", 1);
  show_stat("stat /proc/thread-self/cwd", "/proc/thread-self/cwd", 1);
  CASE("a path below a file's link", open("/proc/self/fd/1/x", O_RDONLY));
  CASE("fchdir back to base", fchdir(base_fd));
  put("pl/file", "data");
  int f = open("pl/file", O_RDONLY);
  snprintf(lnk, sizeof lnk, "/proc/self/fd/%d/", f);
  CASE("a file's link with a trailing slash", open(lnk, O_RDONLY));
  snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", f);
  CASE("truncate through the link", truncate(lnk, 2));
  show_file("truncated through /proc/self/fd", "pl/file");
  CASE("chmod through the link", chmod(lnk, 0600));
  show_stat("chmodded", "pl/file", 0);
  show_link("readlink of a file's fd", lnk);
  CASE("rename it", rename("pl/file", "pl/moved"));
  show_link("readlink after the rename", lnk);
  CASE("link it", link("pl/moved", "pl/second"));
  CASE("unlink the first name", unlink("pl/moved"));
  show_link("readlink after its name went", lnk);
  CASE("unlink the second", unlink("pl/second"));
  show_link("readlink with no name left", lnk);
  snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", pl);
  show_link("readlink of a directory's fd", lnk);
  put("pl/input", "from stdin");
  int saved = dup(0);
  int in = open("pl/input", O_RDONLY);
  dup2(in, 0);
  show_file("/dev/stdin, a tmpfs file", "/dev/stdin");
  show_file("/dev/fd/0, the same", "/dev/fd/0");
  dup2(saved, 0);
  close(saved);
  close(in);
  CASE("fchdir back to base", fchdir(base_fd));
  close(f);
  close(gone);
  close(pl);
  close(base_fd);
}

/* Checks of Linux's fs/ that programs and test suites hit (namei.c, open.c,
 * attr.c, read_write.c, readdir.c, utimes.c, xattr.c, splice.c, shmem.c). */
static void show_times_moved(const char* name, const char* path, const struct stat* before) {
  struct stat st;
  stat(path, &st);
  SHOW(name, "mtime_moved=%d ctime_moved=%d", st.st_mtim.tv_sec != before->st_mtim.tv_sec || st.st_mtim.tv_nsec != before->st_mtim.tv_nsec,
       st.st_ctim.tv_sec != before->st_ctim.tv_sec || st.st_ctim.tv_nsec != before->st_ctim.tv_nsec);
}

static void vfs_checks(void) {
  mkdir("vc", 0755);
  put("vc/f", "0123456789");
  /* Across the mount's edge. */
  CASE("rename to another filesystem", rename("vc/f", "/proc/self/vc_f"));
  CASE("link to another filesystem", link("vc/f", "/dev/shm/ukcov-vc-link"));
  /* O_PATH descriptions: no I/O, no attribute changes. */
  int p = open("vc/f", O_PATH);
  CASE("O_PATH: fchmod", fchmod(p, 0600));
  CASE("O_PATH: fchown", fchown(p, 0, 0));
  CASE("O_PATH: ftruncate", ftruncate(p, 1));
  CASE("O_PATH: fsync", fsync(p));
  CASE("O_PATH: lseek", lseek(p, 0, SEEK_SET));
  CASE("O_PATH: fallocate", fallocate(p, 0, 0, 1));
  CASE("O_PATH: posix_fadvise", syscall(SYS_fadvise64, p, 0, 0, POSIX_FADV_NORMAL));
  CASE("O_PATH: fstatfs", ({ struct statfs sf; fstatfs(p, &sf); }));
  CASE("O_PATH: utimensat NULL path", syscall(SYS_utimensat, p, NULL, NULL, 0));
  close(p);
  int pd = open("vc", O_PATH | O_DIRECTORY);
  CASE("O_PATH dir: openat relative", close(openat(pd, "f", O_RDONLY)));
  CASE("O_PATH dir: mkdirat", mkdirat(pd, "sub", 0755));
  CASE("O_PATH dir: fchdir", fchdir(pd));
  CASE("O_PATH dir: getdents64", syscall(SYS_getdents64, pd, (char[64]){0}, 64));
  chdir(base);
  close(pd);
  /* Renames. */
  mkdir("vc/a", 0755);
  mkdir("vc/a/b", 0755);
  CASE("rename a/b onto its parent a", rename("vc/a/b", "vc/a"));
  CASE("exchange a/b with a", syscall(SYS_renameat2, AT_FDCWD, "vc/a/b", AT_FDCWD, "vc/a", RENAME_EXCHANGE));
  CASE("exchange a with a/b", syscall(SYS_renameat2, AT_FDCWD, "vc/a", AT_FDCWD, "vc/a/b", RENAME_EXCHANGE));
  CASE("link x to y", link("vc/f", "vc/g"));
  CASE("rename a link onto another of it", rename("vc/f", "vc/g"));
  show_stat("both names stay", "vc/f", 0);
  mkdir("vc/p1", 0755);
  mkdir("vc/p2", 0755);
  mkdir("vc/p1/d", 0755);
  CASE("move a directory to another parent", rename("vc/p1/d", "vc/p2/d"));
  show_stat("old parent", "vc/p1", 0);
  show_stat("new parent", "vc/p2", 0);
  struct stat d_parent, p2;
  stat("vc/p2/d/..", &d_parent);
  stat("vc/p2", &p2);
  SHOW("its .. is the new parent", "%d", d_parent.st_ino == p2.st_ino);
  CASE("RENAME_WHITEOUT", syscall(SYS_renameat2, AT_FDCWD, "vc/g", AT_FDCWD, "vc/h", RENAME_WHITEOUT));
  show_stat("the old name: a whiteout", "vc/g", 0);
  struct stat wst;
  stat("vc/g", &wst);
  SHOW("its device", "%u:%u", major(wst.st_rdev), minor(wst.st_rdev));
  show_stat("the new name", "vc/h", 0);
  chmod("vc", 0777);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(1);
    CASE("nobody: mknod a whiteout (0:0)", mknod("vc/w", S_IFCHR | 0600, makedev(0, 0)));
    CASE("nobody: mknod another device", mknod("vc/w2", S_IFCHR | 0600, makedev(1, 3)));
    CASE("nobody: RENAME_WHITEOUT", syscall(SYS_renameat2, AT_FDCWD, "vc/w", AT_FDCWD, "vc/w3", RENAME_WHITEOUT));
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  chmod("vc", 0755);
  /* A removed directory cannot be listed. */
  mkdir("vc/dead", 0755);
  int dead = open("vc/dead", O_RDONLY | O_DIRECTORY);
  rmdir("vc/dead");
  CASE("getdents64 of a removed directory", syscall(SYS_getdents64, dead, (char[256]){0}, 256));
  close(dead);
  /* Opens. */
  CASE("O_PATH|O_CREAT of a new name", open("vc/new", O_PATH | O_CREAT, 0644));
  show_stat("nothing made", "vc/new", 0);
  CASE("O_TMPFILE|O_CREAT", open("vc", O_TMPFILE | O_CREAT | O_RDWR, 0600));
  symlink("nowhere", "vc/dangling");
  CASE("O_CREAT|O_EXCL on a dangling symlink", open("vc/dangling", O_CREAT | O_EXCL | O_WRONLY, 0644));
  CASE("O_CREAT|O_NOFOLLOW on a dangling symlink", open("vc/dangling", O_CREAT | O_NOFOLLOW | O_WRONLY, 0644));
  symlink("a", "vc/dirlink");
  CASE("O_NOFOLLOW|O_DIRECTORY on a link to a dir", open("vc/dirlink", O_NOFOLLOW | O_DIRECTORY | O_RDONLY));
  CASE("O_RDONLY|O_TRUNC of a directory", open("vc", O_RDONLY | O_TRUNC));
  int dfd = open("vc", O_RDONLY | O_DIRECTORY);
  CASE("F_SETFL O_DIRECT on a directory", fcntl(dfd, F_SETFL, O_DIRECT));
  /* Directory offsets. */
  char dents[4096];
  long n = syscall(SYS_getdents64, dfd, dents, sizeof dents);
  SHOW("listed", "%d", n > 0);
  CASE("SEEK_CUR on a directory", lseek(dfd, 0, SEEK_CUR) > 0 ? 0 : -1);
  CASE("SEEK_DATA on a directory", lseek(dfd, 0, SEEK_DATA));
  CASE("negative SEEK_CUR on a directory", lseek(dfd, -1000000, SEEK_CUR));
  CASE("SEEK_CUR past LLONG_MAX on a directory", lseek(dfd, LLONG_MAX, SEEK_CUR));
  CASE("SEEK_SET LLONG_MAX on a directory", lseek(dfd, LLONG_MAX, SEEK_SET));
  CASE("then SEEK_CUR 1 on a directory", lseek(dfd, 1, SEEK_CUR));
  CASE("then SEEK_CUR 1 TiB on a directory", lseek(dfd, 1LL << 40, SEEK_CUR));
  close(dfd);
  /* Offsets and holes. */
  int f = open("vc/f", O_RDWR);
  char buf[16];
  CASE("pread past LLONG_MAX", pread(f, buf, 10, LLONG_MAX - 5));
  CASE("pwrite past LLONG_MAX", pwrite(f, buf, 10, LLONG_MAX - 5));
  CASE("SEEK_HOLE at EOF", lseek(f, 10, SEEK_HOLE));
  CASE("SEEK_DATA at a negative offset", lseek(f, -1, SEEK_DATA));
  CASE("SEEK_HOLE in the last data", lseek(f, 3, SEEK_HOLE));
  /* Appends. */
  int a = open("vc/f", O_WRONLY | O_APPEND);
  CASE("pwrite on O_APPEND writes at EOF", pwrite(a, "A", 1, 0));
  show_file("after it", "vc/f");
  struct iovec iov = {"B", 1};
  CASE("pwritev2 RWF_APPEND", syscall(SYS_pwritev2, f, &iov, 1, 0, 0, 0x10));
  show_file("after it", "vc/f");
  CASE("preadv2 at offset -1", syscall(SYS_preadv2, f, &(struct iovec){buf, 2}, 1, -1, -1, 0));
  CASE("pwritev2 unknown flag", syscall(SYS_pwritev2, f, &iov, 1, 0, 0, 0x80000000));
  CASE("fallocate PUNCH_HOLE on O_APPEND", fallocate(a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1));
  int r = open("vc/f", O_RDONLY);
  CASE("fallocate COLLAPSE|KEEP_SIZE on O_RDONLY", fallocate(r, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096));
  CASE("fallocate INSERT_RANGE", fallocate(f, FALLOC_FL_INSERT_RANGE, 0, 4096));
  /* Copies. */
  CASE("copy_file_range with flags", syscall(SYS_copy_file_range, r, NULL, f, NULL, 1, 1));
  CASE("copy_file_range to O_APPEND", syscall(SYS_copy_file_range, r, NULL, a, NULL, 1, 0));
  loff_t in_off = 0, out_off = 2;
  CASE("copy_file_range overlapping", syscall(SYS_copy_file_range, f, &in_off, f, &out_off, 4, 0));
  in_off = 1000;
  CASE("copy_file_range from past EOF", syscall(SYS_copy_file_range, r, &in_off, f, NULL, 4, 0));
  CASE("sendfile to O_APPEND", sendfile(a, r, NULL, 1));
  off_t so = 1;
  CASE("sendfile with an offset", sendfile(f, r, &so, 2));
  SHOW("offset advanced, fd offset kept", "%lld %lld", (long long)so, (long long)lseek(r, 0, SEEK_CUR));
  close(a);
  close(r);
  /* Time stamps. */
  struct stat before;
  stat("vc/f", &before);
  struct timespec pause = {0, 20 * 1000 * 1000};
  nanosleep(&pause, NULL);
  CASE("truncate to the same size", truncate("vc/f", before.st_size));
  show_times_moved("truncate, same size", "vc/f", &before);
  CASE("ftruncate to the same size", ftruncate(f, before.st_size));
  show_times_moved("ftruncate, same size", "vc/f", &before);
  stat("vc/f", &before);
  nanosleep(&pause, NULL);
  CASE("write of 0 bytes", write(f, "", 0));
  show_times_moved("write of 0 bytes", "vc/f", &before);
  CASE("fallocate KEEP_SIZE", fallocate(f, FALLOC_FL_KEEP_SIZE, 0, 8192));
  show_times_moved("fallocate KEEP_SIZE", "vc/f", &before);
  stat("vc/f", &before);
  nanosleep(&pause, NULL);
  CASE("chown -1 -1", chown("vc/f", -1, -1));
  show_times_moved("chown -1 -1", "vc/f", &before);
  close(f);
  /* utimensat. */
  struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
  CASE("utimensat OMIT/OMIT of a missing file", utimensat(AT_FDCWD, "vc/missing", omit, 0));
  CASE("utimensat OMIT/OMIT with bad flags", utimensat(AT_FDCWD, "vc/f", omit, 0x4000));
  CASE("utimensat NULL path, AT_SYMLINK_NOFOLLOW", syscall(SYS_utimensat, open("vc/f", O_RDONLY), NULL, NULL, AT_SYMLINK_NOFOLLOW));
  CASE("utimensat AT_FDCWD with a NULL path", syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0));
  struct timespec bad[2] = {{0, 2000000000L}, {0, 0}};
  CASE("utimensat missing file, bad nsec", utimensat(AT_FDCWD, "vc/missing", bad, 0));
  /* Blocks. */
  int sp = open("vc/sparse", O_CREAT | O_WRONLY, 0644);
  pwrite(sp, "x", 1, 1 << 20);
  struct stat st;
  fstat(sp, &st);
  SHOW("1 byte at 1 MiB: blocks, blksize", "%lld %ld", (long long)st.st_blocks, (long)st.st_blksize);
  fallocate(sp, 0, 0, 8192);
  fstat(sp, &st);
  SHOW("after fallocate 8192", "%lld", (long long)st.st_blocks);
  fallocate(sp, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096);
  fstat(sp, &st);
  SHOW("after a punched page", "%lld", (long long)st.st_blocks);
  close(sp);
  stat("vc", &st);
  SHOW("a directory's blocks", "%lld", (long long)st.st_blocks);
  struct statx sx;
  CASE("statx STATX_BTIME", syscall(SYS_statx, AT_FDCWD, "vc/f", 0, STATX_BTIME, &sx));
  SHOW("btime in the mask", "%d", (sx.stx_mask & STATX_BTIME) != 0);
  /* Links and trailing slashes. */
  symlink("f", "vc/sym");
  CASE("link a symlink itself", link("vc/sym", "vc/sym2"));
  show_stat("the link is a symlink", "vc/sym2", 0);
  CASE("linkat AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "vc/sym", AT_FDCWD, "vc/target2", AT_SYMLINK_FOLLOW));
  show_stat("that one is the file", "vc/target2", 0);
  mkdir("vc/td", 0755);
  CASE("unlink dir/", unlink("vc/td/"));
  CASE("unlink file/", unlink("vc/f/"));
  CASE("unlink missing/", unlink("vc/missing/"));
  CASE("rmdir a symlink to a dir", rmdir("vc/dirlink"));
  CASE("symlink to new/", symlink("x", "vc/newlink/"));
  CASE("mkfifo new/", mkfifo("vc/newfifo/", 0644));
  CASE("rename dir to newdir/", rename("vc/td", "vc/td2/"));
  CASE("exchange file/ with a dir", syscall(SYS_renameat2, AT_FDCWD, "vc/target2/", AT_FDCWD, "vc/td2", RENAME_EXCHANGE));
  int ls = open("vc/sym", O_PATH | O_NOFOLLOW);
  char target[64] = {0};
  CASE("readlinkat(O_PATH symlink fd, \"\")", readlinkat(ls, "", target, sizeof target));
  int lf = open("vc/target2", O_PATH);
  CASE("readlinkat(O_PATH file fd, \"\")", readlinkat(lf, "", target, sizeof target));
  close(ls);
  close(lf);
  char longt[4097];
  memset(longt, 'x', sizeof longt);
  longt[4095] = 0;
  CASE("symlink target of 4095 bytes", symlink(longt, "vc/long4095"));
  CASE("readlink it", readlink("vc/long4095", (char[4096]){0}, 4096));
  longt[4096] = 0;
  longt[4095] = 'x';
  CASE("symlink target of 4096 bytes", symlink(longt, "vc/long4096"));
  /* xattrs. */
  CASE("setxattr \"user.\"", setxattr("vc/target2", "user.", "v", 1, 0));
  char longname[300];
  memset(longname, 'n', sizeof longname);
  memcpy(longname, "user.", 5);
  longname[256] = 0;
  CASE("setxattr with a 256-byte name", setxattr("vc/target2", longname, "v", 1, 0));
  mkfifo("vc/xfifo", 0644);
  CASE("user. xattr on a FIFO", setxattr("vc/xfifo", "user.a", "v", 1, 0));
  CASE("get it", getxattr("vc/xfifo", "user.a", buf, sizeof buf));
  CASE("XATTR_CREATE|XATTR_REPLACE", setxattr("vc/target2", "user.b", "v", 1, XATTR_CREATE | XATTR_REPLACE));
  /* Which calls move which times. */
  put("vc/t", "x");
  mkdir("vc/tdir", 0755);
  struct stat tb, dirb;
  stat("vc/t", &tb);
  stat("vc/tdir", &dirb);
  nanosleep(&pause, NULL);
  CASE("link", link("vc/t", "vc/tdir/t2"));
  show_times_moved("the file after link", "vc/t", &tb);
  show_times_moved("the dir after link", "vc/tdir", &dirb);
  stat("vc/t", &tb);
  stat("vc/tdir", &dirb);
  nanosleep(&pause, NULL);
  CASE("unlink one of two names", unlink("vc/tdir/t2"));
  show_times_moved("the file after unlink", "vc/t", &tb);
  show_times_moved("the dir after unlink", "vc/tdir", &dirb);
  stat("vc/t", &tb);
  nanosleep(&pause, NULL);
  CASE("setxattr", setxattr("vc/t", "user.t", "v", 1, 0));
  show_times_moved("after setxattr", "vc/t", &tb);
  stat("vc/tdir", &dirb);
  nanosleep(&pause, NULL);
  CASE("symlink in it", symlink("x", "vc/tdir/s"));
  show_times_moved("the dir after symlink", "vc/tdir", &dirb);
  stat("vc/t", &tb);
  nanosleep(&pause, NULL);
  int tf = open("vc/t", O_RDWR);
  CASE("fallocate PUNCH_HOLE", fallocate(tf, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1));
  show_times_moved("after the punch", "vc/t", &tb);
  stat("vc/t", &tb);
  nanosleep(&pause, NULL);
  CASE("O_TRUNC of an empty file", close(open("vc/t", O_WRONLY | O_TRUNC)) == 0 && ftruncate(tf, 0) == 0 ? 0 : -1);
  show_times_moved("after O_TRUNC of it", "vc/t", &tb);
  close(tf);
  /* An open but unlinked file cannot be linked back. */
  put("vc/gone", "x");
  int gf = open("vc/gone", O_RDONLY);
  unlink("vc/gone");
  char gl[64];
  snprintf(gl, sizeof gl, "/proc/self/fd/%d", gf);
  CASE("link an unlinked file back", linkat(AT_FDCWD, gl, AT_FDCWD, "vc/back", AT_SYMLINK_FOLLOW));
  close(gf);
  /* Copies to a file of another filesystem. */
  int memfd = (int)syscall(SYS_memfd_create, "other", 0);
  int src = open("vc/t", O_RDONLY);
  CASE("copy_file_range to a memfd", syscall(SYS_copy_file_range, src, NULL, memfd, NULL, 1, 0));
  close(memfd);
  close(src);
  /* statx of an fd by a NULL path. */
  int sf = open("vc/t", O_RDONLY);
  CASE("statx(fd, \"\", AT_EMPTY_PATH)", syscall(SYS_statx, sf, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
  close(sf);
  /* statfs. */
  struct statfs sfs;
  statfs("vc", &sfs);
  SHOW("statfs: fsid set, frsize, flags", "%d %ld %lx", sfs.f_fsid.__val[0] != 0 || sfs.f_fsid.__val[1] != 0,
       (long)sfs.f_frsize, (unsigned long)sfs.f_flags);
}

/* chattr's flags: immutable and append-only files and directories
 * (FS_IOC_SETFLAGS; the checks of namei.c, open.c, attr.c, xattr.c). */
static void set_flags(const char* path, int flags) {
  int fd = open(path, O_RDONLY);
  ioctl(fd, FS_IOC_SETFLAGS, &flags);
  close(fd);
}

static void inode_flags(void) {
  mkdir("if", 0755);
  put("if/f", "data");
  int fd = open("if/f", O_RDONLY);
  int flags = 0;
  CASE("FS_IOC_GETFLAGS", ioctl(fd, FS_IOC_GETFLAGS, &flags));
  SHOW("flags", "%x", flags);
  flags = FS_IMMUTABLE_FL | FS_NODUMP_FL;
  CASE("FS_IOC_SETFLAGS immutable|nodump", ioctl(fd, FS_IOC_SETFLAGS, &flags));
  flags = 0;
  ioctl(fd, FS_IOC_GETFLAGS, &flags);
  SHOW("flags now", "%x", flags);
  int bad = 0x80000;  /* FS_EXTENT_FL: not tmpfs's */
  CASE("an unsupported flag", ioctl(fd, FS_IOC_SETFLAGS, &bad));
  CASE("immutable: open O_WRONLY", open("if/f", O_WRONLY));
  CASE("immutable: open O_RDONLY", close(open("if/f", O_RDONLY)));
  CASE("immutable: unlink", unlink("if/f"));
  CASE("immutable: rename", rename("if/f", "if/g"));
  CASE("immutable: link", link("if/f", "if/h"));
  CASE("immutable: chmod", chmod("if/f", 0600));
  CASE("immutable: chown", chown("if/f", 0, 0));
  CASE("immutable: truncate", truncate("if/f", 0));
  CASE("immutable: utimes NOW", utimensat(AT_FDCWD, "if/f", NULL, 0));
  CASE("immutable: setxattr", setxattr("if/f", "user.x", "v", 1, 0));
  CASE("immutable: access W_OK", access("if/f", W_OK));
  flags = FS_APPEND_FL;
  CASE("to append-only", ioctl(fd, FS_IOC_SETFLAGS, &flags));
  CASE("append-only: open O_WRONLY", open("if/f", O_WRONLY));
  int a = open("if/f", O_WRONLY | O_APPEND);
  CASE("append-only: open O_WRONLY|O_APPEND", a >= 0 ? 0 : -1);
  CASE("append-only: write", write(a, "+", 1));
  close(a);
  CASE("append-only: O_APPEND|O_TRUNC", open("if/f", O_WRONLY | O_APPEND | O_TRUNC));
  CASE("append-only: unlink", unlink("if/f"));
  CASE("append-only: utimes NOW", utimensat(AT_FDCWD, "if/f", NULL, 0));
  struct timespec given[2] = {{1, 0}, {1, 0}};
  CASE("append-only: utimes given", utimensat(AT_FDCWD, "if/f", given, 0));
  int w = open("if/f", O_WRONLY | O_APPEND);
  CASE("append-only: fallocate", fallocate(w, 0, 0, 4096));
  CASE("append-only: punch", fallocate(w, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1));
  CASE("append-only: ftruncate", ftruncate(w, 0));
  close(w);
  show_file("what it holds", "if/f");
  flags = 0;
  CASE("clear", ioctl(fd, FS_IOC_SETFLAGS, &flags));
  close(fd);
  /* Directories. */
  mkdir("if/d", 0755);
  put("if/d/in", "x");
  set_flags("if/d", FS_APPEND_FL | FS_NOATIME_FL);
  CASE("append-only dir: create", close(open("if/d/new", O_CREAT | O_WRONLY, 0644)));
  CASE("append-only dir: unlink", unlink("if/d/in"));
  CASE("append-only dir: rename out", rename("if/d/in", "if/out"));
  CASE("append-only dir: mkdir", mkdir("if/d/sub", 0755));
  int dflags = 0;
  int dfd = open("if/d/sub", O_RDONLY);
  ioctl(dfd, FS_IOC_GETFLAGS, &dflags);
  SHOW("inherited by a new dir", "%x", dflags);
  close(dfd);
  set_flags("if/d", FS_IMMUTABLE_FL);
  CASE("immutable dir: create", open("if/d/new2", O_CREAT | O_WRONLY, 0644));
  CASE("immutable dir: write a file in it", put("if/d/in", "y"));
  set_flags("if/d", 0);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(1);
    int r = open("if/f", O_RDONLY);
    int f = FS_NODUMP_FL;
    CASE("nobody: SETFLAGS on root's file", ioctl(r, FS_IOC_SETFLAGS, &f));
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
}

/* The same, for what an unprivileged owner may and may not do (attr.c,
 * namei.c's permission order, open.c's access with the real uid). */
static void unprivileged_checks(void) {
  mkdir("uc", 0777);
  chmod("uc", 0777);
  mkdir("uc/d700", 0700);
  put("uc/d700/f", "x");
  mkdir("uc/d711", 0711);
  put("uc/d711/f", "x");
  chmod("uc/d711/f", 0644);
  mkdir("uc/d744", 0744);
  put("uc/d744/f", "x");
  put("uc/root0600", "x");
  chmod("uc/root0600", 0600);
  mkdir("uc/sgid", 0777);
  chown("uc/sgid", 0, 4242);
  chmod("uc/sgid", 02777);
  mkdir("uc/sticky", 01777);
  put("uc/sticky/other", "x");
  chown("uc/sticky/other", 1000, 1000);
  chmod("uc/sticky/other", 0666);
  mkdir("uc/p1", 0777);
  mkdir("uc/p2", 0777);
  chmod("uc/p1", 0777);
  chmod("uc/p2", 0777);
  mkdir("uc/p1/rootdir", 0755);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    gid_t groups[] = {4343};
    if (setgroups(1, groups) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 0, 0) != 0) _exit(1);
    /* Real uid nobody, effective root: access() asks as the real one. */
    CASE("access R_OK with ruid nobody", access("uc/root0600", R_OK));
    CASE("faccessat2 AT_EACCESS", syscall(SYS_faccessat2, AT_FDCWD, "uc/root0600", R_OK, AT_EACCESS));
    CASE("and open as euid root", close(open("uc/root0600", O_RDONLY)));
    if (setresuid(65534, 65534, 65534) != 0) _exit(1);
    struct stat st;
    CASE("stat in a 0700 dir", stat("uc/d700/f", &st));
    CASE("chdir to a 0700 dir", chdir("uc/d700"));
    CASE("open a 0711 dir", open("uc/d711", O_RDONLY));
    CASE("stat in a 0711 dir", stat("uc/d711/f", &st));
    int d744 = open("uc/d744", O_RDONLY | O_DIRECTORY);
    CASE("list a 0744 dir", syscall(SYS_getdents64, d744, (char[256]){0}, 256) > 0 ? 0 : -1);
    CASE("stat in a 0744 dir", stat("uc/d744/f", &st));
    /* Owner, then group, then other. */
    put("uc/mine", "x");
    chmod("uc/mine", 0077);
    CASE("own file, mode 0077: open", open("uc/mine", O_RDONLY));
    chmod("uc/mine", 0644);
    /* chown by an owner. */
    CASE("chown own file to self", chown("uc/mine", 65534, -1));
    CASE("chgrp own file to a supplementary group", chown("uc/mine", -1, 4343));
    CASE("chgrp own file to another group", chown("uc/mine", -1, 4444));
    CASE("chown own file to another user", chown("uc/mine", 1000, -1));
    /* set-user-ID and set-group-ID, cleared by a write and a truncate. */
    chown("uc/mine", -1, 65534);
    CASE("chmod 06775", chmod("uc/mine", 06775));
    show_stat("set", "uc/mine", 0);
    int f = open("uc/mine", O_WRONLY);
    CASE("write", write(f, "y", 1));
    show_stat("after the write", "uc/mine", 0);
    chmod("uc/mine", 06775);
    CASE("ftruncate", ftruncate(f, 0));
    show_stat("after the truncate", "uc/mine", 0);
    chmod("uc/mine", 02664);
    CASE("write (02664, own group)", write(f, "z", 1));
    show_stat("set-group-ID kept", "uc/mine", 0);
    close(f);
    CASE("chmod 02755, group not mine", chmod("uc/mine", 02755) == 0 && chown("uc/mine", -1, 4343) == 0 ? 0 : -1);
    CASE("chmod 02755 with group 4343 (mine)", chmod("uc/mine", 02755));
    show_stat("kept", "uc/mine", 0);
    /* set-group-ID directories. */
    CASE("create in a set-group-ID dir", close(open("uc/sgid/f", O_CREAT | O_WRONLY, 02755)));
    CASE("mkdir in it", mkdir("uc/sgid/sub", 0755));
    stat("uc/sgid/f", &st);
    SHOW("the file: gid, mode", "%u %o", (unsigned)st.st_gid, st.st_mode);
    stat("uc/sgid/sub", &st);
    SHOW("the dir: gid, mode", "%u %o", (unsigned)st.st_gid, st.st_mode);
    umask(0);
    CASE("mkdir 07777", mkdir("uc/all", 07777));
    show_stat("its mode", "uc/all", 0);
    umask(022);
    /* Sticky directories. */
    CASE("rename another's file in a sticky dir", rename("uc/sticky/other", "uc/sticky/x"));
    put("uc/sticky/own", "x");
    CASE("rename over another's file there", rename("uc/sticky/own", "uc/sticky/other"));
    /* Moving a directory needs write access to it (its ".." changes). */
    CASE("move a root dir to another parent", rename("uc/p1/rootdir", "uc/p2/rootdir"));
    CASE("rename it in its parent", rename("uc/p1/rootdir", "uc/p1/renamed"));
    /* utimensat as a non-owner with write access. */
    put("uc/shared", "x");
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  put("uc/rootfile", "x");
  chmod("uc/rootfile", 0666);
  pid = fork();
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(1);
    struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    CASE("utimensat NOW/NOW, not owner, writable", utimensat(AT_FDCWD, "uc/rootfile", now, 0));
    struct timespec mixed[2] = {{0, UTIME_NOW}, {5, 0}};
    CASE("utimensat NOW/explicit, not owner", utimensat(AT_FDCWD, "uc/rootfile", mixed, 0));
    CASE("utimensat NULL, not owner, not writable", utimensat(AT_FDCWD, "uc/root0600", NULL, 0));
    int r = open("uc/rootfile", O_RDONLY);
    CASE("F_SETFL O_NOATIME, not owner", fcntl(r, F_SETFL, O_NOATIME));
    close(r);
    put("uc/own2", "x");
    r = open("uc/own2", O_RDONLY);
    CASE("F_SETFL O_NOATIME, owner", fcntl(r, F_SETFL, O_NOATIME));
    close(r);
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  put("uc/suid", "x");
  chmod("uc/suid", 04755);
  CASE("root chown -1 -1 of a set-user-ID file", chown("uc/suid", -1, -1));
  show_stat("after it", "uc/suid", 0);
}

/* RLIMIT_FSIZE: a write at or past the limit is EFBIG with SIGXFSZ, one
 * that straddles it is cut at it; truncate and fallocate may not grow a
 * file past it (with KEEP_SIZE, fallocate may). Partial I/O: a buffer that
 * runs into a page that cannot be read or written moves what came before
 * it; a range outside user space is EFAULT before any byte moves. */
static volatile sig_atomic_t xfsz_signals;
static void on_xfsz(int sig) {
  (void)sig;
  xfsz_signals++;
}

static void limits_and_partial_io(void) {
  char buf[512];
  memset(buf, 'f', sizeof buf);
  int fd = open("fsize", O_CREAT | O_RDWR | O_TRUNC, 0644);
  struct sigaction sa, old_sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_xfsz;
  sigaction(SIGXFSZ, &sa, &old_sa);
  struct rlimit old_limit, limit;
  getrlimit(RLIMIT_FSIZE, &old_limit);
  limit = old_limit;
  limit.rlim_cur = 10000;
  /* The limit applies to stdout too (a file, under ctest): the lines are
   * kept in memory until it is lifted. */
  fflush(stdout);
  FILE* real_stdout = stdout;
  char* held = NULL;
  size_t held_size = 0;
  stdout = open_memstream(&held, &held_size);
  CASE("fsize: setrlimit 10000", setrlimit(RLIMIT_FSIZE, &limit));
  CASE("fsize: write within", pwrite(fd, buf, 100, 0));
  CASE("fsize: write straddling: cut at it", pwrite(fd, buf, 200, 9900));
  SHOW("fsize: signals so far", "%d", (int)xfsz_signals);
  CASE("fsize: write at the limit", pwrite(fd, buf, 10, 10000));
  CASE("fsize: write of 0 bytes past it", pwrite(fd, buf, 0, 20000));
  SHOW("fsize: signals after the write", "%d", (int)xfsz_signals);
  CASE("fsize: ftruncate past", ftruncate(fd, 20000));
  CASE("fsize: truncate by path past", truncate("fsize", 10001));
  CASE("fsize: ftruncate within", ftruncate(fd, 5000));
  CASE("fsize: fallocate past", fallocate(fd, 0, 0, 20000));
  CASE("fsize: fallocate KEEP_SIZE past", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 20000));
  SHOW("fsize: signals after truncate, fallocate", "%d", (int)xfsz_signals);
  struct stat st;
  fstat(fd, &st);
  SHOW("fsize: size", "%lld", (long long)st.st_size);
  CASE("fsize: setrlimit back", setrlimit(RLIMIT_FSIZE, &old_limit));
  sigaction(SIGXFSZ, &old_sa, NULL);
  fclose(stdout);
  stdout = real_stdout;
  fputs(held, stdout);
  free(held);

  ftruncate(fd, 0);
  pwrite(fd, buf, sizeof buf, 0);
  char* p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(p, 'p', 4096);
  munmap(p + 4096, 4096);
  struct iovec two[2] = {{p, 100}, {p + 4096, 100}};
  CASE("partial: pwritev, second buffer unmapped", pwritev(fd, two, 2, 0));
  CASE("partial: pwrite running into an unmapped page", pwrite(fd, p + 4000, 200, 0));
  CASE("partial: pread into a buffer running into one", pread(fd, p + 4000, 200, 0));
  CASE("partial: preadv, second buffer unmapped", preadv(fd, two, 2, 0));
  struct iovec outside[2] = {{p, 10}, {(void*)0xffff800000000000ull, 10}};
  CASE("partial: preadv with an iovec outside user space", preadv(fd, outside, 2, 0));
  CASE("partial: pwritev with an iovec outside user space", pwritev(fd, outside, 2, 0));
  CASE("partial: pwrite from a kernel address", pwrite(fd, (void*)0xffffffff80000000ull, 10, 0));
  CASE("partial: write of a count past user space", pwrite(fd, p, 0x800000000000ull, 0));
  munmap(p, 4096);
  /* A shared mapping of a 100-byte file, two pages long: the second page is
   * past the end of the file (touching it is SIGBUS). */
  int small = open("small", O_CREAT | O_RDWR | O_TRUNC, 0644);
  pwrite(small, buf, 100, 0);
  char* m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, small, 0);
  CASE("partial: pwrite from a mapping past its file's end", m == MAP_FAILED ? -1 : pwrite(fd, m + 4000, 200, 0));
  if (m != MAP_FAILED) munmap(m, 8192);
  close(small);
  fstat(fd, &st);
  SHOW("partial: size", "%lld", (long long)st.st_size);
  close(fd);
  unlink("small");
  unlink("fsize");
}

/* Checks Linux makes at the edges, each seen to differ once: statx's flag
 * and mask validation and its mount id; O_DIRECT (a tmpfs regular file can,
 * a directory cannot); what F_GETFL reports for O_PATH; renameat2 and
 * link with ".", trailing slashes; getdents64 counts past INT_MAX. */
static void edge_checks(void) {
  close(open("edge", O_CREAT | O_RDWR, 0644));
  mkdir("edged", 0755);
  struct statx stx;
  CASE("statx: reserved mask bit", syscall(SYS_statx, AT_FDCWD, "edge", 0, 0x80000000u, &stx));
  CASE("statx: flag 0x1", syscall(SYS_statx, AT_FDCWD, "edge", 0x1, STATX_BASIC_STATS, &stx));
  CASE("statx: both sync types", syscall(SYS_statx, AT_FDCWD, "edge", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
                                        STATX_BASIC_STATS, &stx));
  CASE("newfstatat: flag 0x1", syscall(SYS_newfstatat, AT_FDCWD, "edge", &stx, 0x1));
  memset(&stx, 0, sizeof stx);
  CASE("statx: STATX_MNT_ID", syscall(SYS_statx, AT_FDCWD, "edge", 0, STATX_BASIC_STATS | STATX_MNT_ID, &stx));
  SHOW("statx: mask has MNT_ID, id non-zero", "%d %d", !!(stx.stx_mask & STATX_MNT_ID), stx.stx_mnt_id != 0);
  int fd = open("edged", O_RDONLY | O_DIRECT);
  CASE("open a directory O_DIRECT", fd);
  if (fd >= 0) close(fd);
  fd = open("edge", O_RDWR | O_DIRECT);
  CASE("open a file O_DIRECT", fd);
  if (fd >= 0) close(fd);
  int p = open("edge", O_PATH);
  CASE("F_GETFL of O_PATH", fcntl(p, F_GETFL));
  close(p);
  p = open("edge", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  CASE("F_GETFL of O_PATH|O_NOFOLLOW|O_CLOEXEC", fcntl(p, F_GETFL));
  close(p);
  p = open("edged", O_PATH | O_DIRECTORY);
  CASE("F_GETFL of O_PATH|O_DIRECTORY", fcntl(p, F_GETFL));
  close(p);
  fd = open("edge", O_WRONLY | O_APPEND | O_NONBLOCK);
  CASE("F_GETFL of O_WRONLY|O_APPEND|O_NONBLOCK", fcntl(fd, F_GETFL));
  close(fd);
  CASE("renameat2 NOREPLACE from .", syscall(SYS_renameat2, AT_FDCWD, ".", AT_FDCWD, "x", RENAME_NOREPLACE));
  CASE("renameat2 NOREPLACE to .", syscall(SYS_renameat2, AT_FDCWD, "edge", AT_FDCWD, ".", RENAME_NOREPLACE));
  CASE("renameat2 to ..", syscall(SYS_renameat2, AT_FDCWD, "edge", AT_FDCWD, "..", 0));
  CASE("link to a new name with a trailing slash", link("edge", "edge2/"));
  CASE("link to an existing name with one", link("edge", "edged/"));
  CASE("link from a name with one", link("edge/", "edge3"));
  int dfd = open("edged", O_RDONLY | O_DIRECTORY);
  static char big[65536];
  CASE("getdents64: count past INT_MAX", syscall(SYS_getdents64, dfd, big, 0x80001000ul));
  CASE("getdents64: count 4G-1", syscall(SYS_getdents64, dfd, big, 0xfffffffful));
  CASE("getdents64: count INT_MAX", syscall(SYS_getdents64, dfd, big, 0x7ffffffful) > 0);
  close(dfd);
  rmdir("edged");
  unlink("edge");

  /* Links and truncation as an unprivileged user, after dropping root:
   * fs.protected_hardlinks (the host's setting) refuses links to files the
   * caller neither owns nor may read and write; truncate by path needs
   * write permission, ftruncate an fd open for writing. */
  mkdir("lk", 01777);
  chmod("lk", 01777);
  close(open("lk/secret", O_CREAT | O_RDWR, 0600));
  close(open("lk/public", O_CREAT | O_RDWR, 0644));
  int keep = open("lk/secret", O_RDWR);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(1);
    close(open("lk/mine", O_CREAT | O_RDWR, 0600));
    CASE("nobody: link other's 0600 file", link("lk/secret", "lk/l1"));
    CASE("nobody: link other's 0644 file", link("lk/public", "lk/l2"));
    CASE("nobody: link own file", link("lk/mine", "lk/l3"));
    int own = open("lk/public", O_RDONLY);
    CASE("nobody: linkat AT_EMPTY_PATH, other's file", linkat(own, "", AT_FDCWD, "lk/l4", AT_EMPTY_PATH));
    close(own);
    CASE("nobody: truncate other's 0600 by path", truncate("lk/secret", 0));
    CASE("nobody: truncate other's 0644 by path", truncate("lk/public", 0));
    CASE("nobody: ftruncate an fd root opened O_RDWR", ftruncate(keep, 0));
    CASE("nobody: truncate own file", truncate("lk/mine", 10));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  SHOW("nobody (links) child exit", "%d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  close(keep);
  const char* made[] = {"lk/l1", "lk/l2", "lk/l3", "lk/l4", "lk/mine", "lk/secret", "lk/public"};
  for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) unlink(made[i]);
  rmdir("lk");
}

int main(int argc, char** argv) {
  if (argc != 2 || chdir(argv[1]) != 0) {
    fprintf(stderr, "usage: %s EMPTY_TMPFS_DIR\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (getcwd(base, sizeof base) == NULL) return 2;
  umask(022);
  files();
  directories();
  names();
  renames();
  attributes();
  mappings();
  owners_times_space();
  tmpfiles_and_locks();
  xattrs();
  bad_input();
  copies();
  openat2_cases();
  through_to_host();
  counts_and_clocks();
  magic_links();
  special_files();
  working_directory();
  proc_links();
  vfs_checks();
  inode_flags();
  unprivileged_checks();
  limits_and_partial_io();
  edge_checks();
  return 0;
}
