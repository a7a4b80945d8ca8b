/* execve and execveat of files in a tmpfs: ELF binaries and #! scripts, the
 * argv, environment, fds, name and /proc/self/exe the new program gets, and
 * the errors (EACCES, ENOEXEC, ETXTBSY, ELOOP, ENOENT). One line per case,
 * run natively in a directory on a real tmpfs and under `ukcov run --tmpfs
 * DIR`; tests/guest/run_conformance.sh compares the outputs.
 * Usage: tmpfs_exec DIR (DIR empty). The program copies itself into DIR and
 * runs the copy: with EXEC_CHILD=1 in its environment it reports what it
 * was given instead. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static const char* dir;

static const char* errname(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(EBADF) E(EACCES) E(EFAULT) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENOEXEC) E(ETXTBSY)
    E(ELOOP) E(E2BIG) E(ENAMETOOLONG)
#undef E
    default: return "E?";
  }
}

/* `s` with the test directory written DIR (it differs between the runs). */
static void put_path(const char* s) {
  const char* d = getenv("EXEC_DIR");
  size_t n = d ? strlen(d) : 0;
  const char* p;
  while (n > 0 && (p = strstr(s, d)) != NULL) {
    fwrite(s, 1, (size_t)(p - s), stdout);
    fputs("DIR", stdout);
    s = p + n;
  }
  fputs(s, stdout);
}

/* The copy, run by a case: what it was given. */
static int child(int argc, char** argv) {
  printf("  argc=%d", argc);
  for (int i = 0; i < argc; i++) {
    printf(" [");
    put_path(argv[i]);
    printf("]");
  }
  const char* x = getenv("X");
  printf(" X=%s", x ? x : "-");
  int envc = 0;
  for (char** e = environ; *e; e++) envc++;
  printf(" envc=%d fds=", envc);
  for (int fd = 0; fd < 10; fd++)
    if (fcntl(fd, F_GETFD) >= 0) printf("%d,", fd);
  char comm[32] = {0};
  int c = open("/proc/self/comm", O_RDONLY);
  if (c >= 0 && read(c, comm, sizeof comm - 1) > 0) comm[strcspn(comm, "\n")] = 0;
  close(c);
  /* After an AT_EMPTY_PATH exec (EXEC_EMPTY_PATH=FD:NAME) Linux names the
   * task after the fd's number, or (6.14, and stable kernels since) after
   * the file it ran: either is Linux's answer. */
  const char* empty_path = getenv("EXEC_EMPTY_PATH");
  if (empty_path) {
    char fd_name[16];
    snprintf(fd_name, sizeof fd_name, "%.*s", (int)strcspn(empty_path, ":"), empty_path);
    if (strcmp(comm, fd_name) == 0 || strcmp(comm, strchr(empty_path, ':') + 1) == 0)
      snprintf(comm, sizeof comm, "fd-or-file");
  }
  printf(" comm=%s", comm);
  char exe[512] = {0};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  printf(" exe=");
  if (n > 0) put_path(exe);
  char magic[4] = {0};
  int f = open("/proc/self/exe", O_RDONLY);
  printf(" exe_elf=%d", f >= 0 && read(f, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0);
  close(f);
  const char* expect = getenv("EXPECT_PID");
  if (expect) printf(" same_pid=%d", atoi(expect) == getpid());
  printf(" uid=%d\n", (int)getuid());
  fflush(stdout);
  if (getenv("EXEC_WAIT")) {  /* running: says so on fd 4, then waits for fd 3's EOF */
    char b = 'r';
    (void)!write(4, &b, 1);
    close(4);
    while (read(3, &b, 1) > 0) {
    }
  }
  return 7;
}

static char* child_env[] = {"EXEC_CHILD=1", "X=1", NULL, NULL, NULL};

/* Runs `exec` in a child process: its status, or the exec's error. */
static void run(const char* name, void (*exec)(void*), void* arg) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    exec(arg);
    printf("%-28s -1 %s\n", name, errname(errno));
    fflush(stdout);
    _exit(99);
  }
  int status;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 99) return;  /* the line is the child's */
  printf("%-28s status=%d\n", name, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static char path_buf[8][512];
static const char* at(int slot, const char* name) {
  snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, name);
  return path_buf[slot];
}

static int copy(const char* from, const char* to, mode_t mode) {
  int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) (void)!write(out, buf, (size_t)n);
  close(in);
  close(out);
  return chmod(to, mode);
}

static void put(const char* path, const char* text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  (void)!write(fd, text, strlen(text));
  close(fd);
  chmod(path, mode);
}

/* ---- the execs, each in a forked child ---- */
static void exec_path(void* path) {
  char* argv[] = {"prog", "a b", "c", NULL};
  execve(path, argv, child_env);
}
static void exec_relative(void* name) {
  (void)!chdir(dir);
  char* argv[] = {name, "rel", NULL};
  execve(name, argv, child_env);
}
static void exec_fds(void* path) {
  int null = open("/dev/null", O_RDONLY);
  dup2(null, 7);
  int kept = open(path, O_RDONLY);
  dup2(kept, 9);
  fcntl(open("/dev/null", O_RDONLY), F_DUPFD_CLOEXEC, 8);
  char* argv[] = {"fds", NULL};
  execve(path, argv, child_env);
}
static void exec_at_dirfd(void* name) {
  int d = open(dir, O_DIRECTORY | O_RDONLY);
  char* argv[] = {"at", NULL};
  syscall(SYS_execveat, d, name, argv, child_env, 0);
}
/* execveat(fd, "", AT_EMPTY_PATH) of an fd opened with `flags`. */
static void exec_by_fd(const char* path, int flags, char* label) {
  int fd = open(path, flags);
  char* argv[] = {label, NULL};
  static char empty_path[64];
  snprintf(empty_path, sizeof empty_path, "EXEC_EMPTY_PATH=%d:prog", fd);
  char* env[] = {"EXEC_CHILD=1", child_env[2], empty_path, NULL};
  syscall(SYS_execveat, fd, "", argv, env, AT_EMPTY_PATH);
}
static void exec_fd(void* path) { exec_by_fd(path, O_RDONLY, "fexecve"); }
static void exec_opath(void* path) { exec_by_fd(path, O_PATH, "opath"); }
static void exec_fd_cloexec(void* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  dup2(fd, 5);
  fcntl(5, F_SETFD, FD_CLOEXEC);
  char* argv[] = {"cloexec", NULL};
  char* env[] = {"EXEC_CHILD=1", child_env[2], NULL};
  syscall(SYS_execveat, 5, "", argv, env, AT_EMPTY_PATH);
}
static void exec_fd_kept(void* path) {
  int fd = open(path, O_RDONLY);
  dup2(fd, 5);
  close(fd);
  char* argv[] = {"kept", NULL};
  char* env[] = {"EXEC_CHILD=1", child_env[2], "EXEC_EMPTY_PATH=5:prog", NULL};
  syscall(SYS_execveat, 5, "", argv, env, AT_EMPTY_PATH);
}
static void exec_nofollow(void* path) {
  char* argv[] = {"nofollow", NULL};
  syscall(SYS_execveat, AT_FDCWD, path, argv, child_env, AT_SYMLINK_NOFOLLOW);
}
static void exec_bad_flags(void* path) {
  char* argv[] = {"flags", NULL};
  syscall(SYS_execveat, AT_FDCWD, path, argv, child_env, 0x4);
}
static void exec_empty_argv(void* path) {
  char* argv[] = {NULL};
  execve(path, argv, child_env);
}
static void exec_no_env(void* path) {
  char* argv[] = {"noenv", NULL};
  char* env[] = {"EXEC_CHILD=1", child_env[2], NULL};
  execve(path, argv, env);
}
static void exec_busy(void* path) {
  int w = open(path, O_WRONLY);
  (void)w;
  char* argv[] = {"busy", NULL};
  execve(path, argv, child_env);
}
static void* thread_exec(void* path) {
  char* argv[] = {"thread", NULL};
  execve(path, argv, child_env);
  printf("%-28s -1 %s\n", "thread_exec", errname(errno));
  fflush(stdout);
  _exit(99);
}
static void exec_from_thread(void* path) {
  static char expect[32];
  snprintf(expect, sizeof expect, "EXPECT_PID=%d", getpid());
  child_env[3] = expect;
  pthread_t t;
  pthread_create(&t, NULL, thread_exec, path);
  pthread_join(t, NULL);
}

/* An execveat described by data: the dirfd (opened here from `dir_path`
 * with `dir_flags`, or a number), the path, the flags, and what to do to the
 * file first. */
struct At {
  const char* dir_path;  /* NULL: use `dirfd` */
  int dir_flags;
  int dirfd;
  const char* path;
  int flags;
  int lseek_to;          /* > 0: move the fd's offset first */
  const char* rename_to; /* rename dir_path's file first (then unlink if `unlink_it`) */
  int unlink_it;
  int rmdir_it;          /* rename/rmdir the directory dir_path first */
  const char* empty_path_name;  /* for the child's comm check */
};
static void exec_at(void* arg) {
  struct At* a = arg;
  int fd = a->dirfd;
  if (a->dir_path) fd = open(a->dir_path, a->dir_flags);
  if (a->lseek_to > 0) lseek(fd, a->lseek_to, SEEK_SET);
  if (a->rename_to) {
    (void)!rename(a->dir_path, a->rename_to);
    if (a->unlink_it) unlink(a->rename_to);
  }
  if (a->rmdir_it) {
    char script[600];
    snprintf(script, sizeof script, "%s/script", a->rename_to ? a->rename_to : a->dir_path);
    unlink(script);
    rmdir(a->rename_to ? a->rename_to : a->dir_path);
  }
  static char empty_path[64];
  snprintf(empty_path, sizeof empty_path, "EXEC_EMPTY_PATH=%d:%s", fd, a->empty_path_name ? a->empty_path_name : "-");
  char* argv[] = {"at", "x", NULL};
  char* env[] = {"EXEC_CHILD=1", child_env[2], a->empty_path_name ? empty_path : NULL, NULL};
  syscall(SYS_execveat, fd, a->path, argv, env, a->flags);
}
static void exec_from_root(void* path) {
  (void)!chdir("/");
  exec_path(path);
}
static void exec_null_argv_envp(void* path) { syscall(SYS_execve, path, NULL, NULL); }
static void exec_bad_path_pointer(void* unused) {
  (void)unused;
  char* page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* argv[] = {"x", NULL};
  execve(page, argv, child_env);
}
static void* pause_forever(void* unused) {
  (void)unused;
  for (;;) pause();
  return NULL;
}
static void exec_with_sibling(void* path) {
  pthread_t t;
  pthread_create(&t, NULL, pause_forever, NULL);
  exec_path(path);
}
/* clone(CLONE_VFORK | CLONE_FILES): the child's exec gets a table of its own;
 * the parent's fds stay as they were. */
static char vfork_stack[1 << 16];
static int vfork_child(void* path) {
  exec_path(path);
  _exit(99);
}
static void exec_vfork_files(void* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  pid_t pid = clone(vfork_child, vfork_stack + sizeof vfork_stack, CLONE_VFORK | CLONE_FILES | SIGCHLD, path);
  int status;
  waitpid(pid, &status, 0);
  printf("  after the vfork child's exec: status=%d cloexec_fd_open=%d fds=", WEXITSTATUS(status),
         fcntl(fd, F_GETFD) >= 0);
  for (int i = 0; i < 10; i++)
    if (fcntl(i, F_GETFD) >= 0) printf("%d,", i);
  printf("\n");
  fflush(stdout);
  _exit(0);
}
static void exec_tmpfs_fds(void* path) {
  char other[600];
  snprintf(other, sizeof other, "%s/garbage", dir);
  int keep = open(other, O_RDONLY);
  int drop = open(other, O_RDONLY | O_CLOEXEC);
  dup2(keep, 6);
  dup2(drop, 7);
  fcntl(7, F_SETFD, FD_CLOEXEC);
  exec_path(path);
}
static void exec_many(void* path) {
  pid_t pids[8];
  fflush(stdout);
  for (int i = 0; i < 8; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      exec_path(path);
      _exit(99);
    }
  }
  int ok = 0;
  for (int i = 0; i < 8; i++) {
    int status;
    waitpid(pids[i], &status, 0);
    ok += WIFEXITED(status) && WEXITSTATUS(status) == 7;
  }
  printf("  %d of 8 ran\n", ok);
  fflush(stdout);
  _exit(0);
}

#define RUN(name, fn, arg) run(name, fn, (void*)(arg))

/* Writes DIR/name, mode 0755, with `text`, and runs it by its path. */
static void run_script(const char* label, const char* name, const char* text) {
  put(at(4, name), text, 0755);
  RUN(label, exec_path, at(4, name));
}

int main(int argc, char** argv) {
  if (getenv("EXEC_CHILD")) return child(argc, argv);
  if (argc != 2) {
    fprintf(stderr, "usage: tmpfs_exec DIR\n");
    return 2;
  }
  dir = argv[1];
  /* Only the standard streams: the same fd numbers wherever it runs. */
  syscall(SYS_close_range, 3, ~0U, 0);
  static char host_self[512];
  ssize_t self_len = readlink("/proc/self/exe", host_self, sizeof host_self - 1);
  host_self[self_len > 0 ? self_len : 0] = 0;
  static char env_dir[600];
  snprintf(env_dir, sizeof env_dir, "EXEC_DIR=%s", dir);
  child_env[2] = env_dir;
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  const char* prog = at(0, "prog");
  copy("/proc/self/exe", prog, 0755);

  printf("-- elf\n");
  RUN("absolute", exec_path, prog);
  RUN("relative", exec_relative, "./prog");
  RUN("fds", exec_fds, prog);
  RUN("execveat_dirfd", exec_at_dirfd, "prog");
  RUN("fexecve", exec_fd, prog);
  RUN("fexecve_opath", exec_opath, prog);
  RUN("empty_argv", exec_empty_argv, prog);
  RUN("no_env", exec_no_env, prog);
  RUN("from_thread", exec_from_thread, prog);
  child_env[3] = NULL;
  link(prog, at(1, "hardlink"));
  RUN("hard_link", exec_path, at(1, "hardlink"));
  symlink("prog", at(1, "link"));
  RUN("symlink", exec_path, at(1, "link"));
  RUN("symlink_nofollow", exec_nofollow, at(1, "link"));
  symlink(host_self, at(1, "host_prog"));  /* this program, on the host */
  RUN("symlink_to_host", exec_path, at(1, "host_prog"));
  RUN("bad_flags", exec_bad_flags, prog);

  printf("-- errors\n");
  copy(prog, at(1, "noexec"), 0644);
  RUN("no_x_bit", exec_path, at(1, "noexec"));
  mkdir(at(1, "sub"), 0755);
  RUN("directory", exec_path, at(1, "sub"));
  RUN("missing", exec_path, at(1, "missing"));
  RUN("not_a_dir", exec_path, at(1, "prog/x"));
  run_script("garbage", "garbage", "hello world\n");
  run_script("empty_file", "empty", "");
  mkfifo(at(1, "fifo"), 0755);
  RUN("fifo", exec_path, at(1, "fifo"));
  copy(prog, at(1, "busy"), 0755);
  RUN("open_for_write", exec_busy, at(1, "busy"));
  {
    int w = open(at(1, "busy"), O_WRONLY);
    RUN("parent_writing", exec_path, at(1, "busy"));
    close(w);
    RUN("writer_closed", exec_path, at(1, "busy"));
  }

  printf("-- running\n");
  {
    copy(prog, at(1, "running"), 0755);
    int p[2], ready[2];
    (void)!pipe(p);
    (void)!pipe(ready);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      close(p[1]);
      close(ready[0]);
      dup2(p[0], 3);
      dup2(ready[1], 4);
      char* env[] = {"EXEC_CHILD=1", "EXEC_WAIT=1", child_env[2], NULL};
      char* a[] = {"running", NULL};
      execve(at(1, "running"), a, env);
      _exit(99);
    }
    close(p[0]);
    close(ready[1]);
    char b;
    printf("%-28s %zd\n", "started", read(ready[0], &b, 1));
    int w = open(at(1, "running"), O_WRONLY);
    printf("%-28s %d %s\n", "open_wronly", w < 0 ? -1 : w, w < 0 ? errname(errno) : "-");
    errno = 0;
    int r = truncate(at(1, "running"), 0);
    printf("%-28s %d %s\n", "truncate", r, r < 0 ? errname(errno) : "-");
    r = open(at(1, "running"), O_RDONLY | O_TRUNC);
    printf("%-28s %d %s\n", "open_rdonly_trunc", r < 0 ? -1 : 0, r < 0 ? errname(errno) : "-");
    if (r >= 0) close(r);
    r = open(at(1, "running"), O_RDONLY);
    printf("%-28s %d %s\n", "open_rdonly", r < 0 ? -1 : 0, r < 0 ? errname(errno) : "-");
    if (r >= 0) close(r);
    unlink(at(1, "running"));
    close(p[1]);
    int status;
    waitpid(pid, &status, 0);
    printf("%-28s status=%d\n", "running_done", WEXITSTATUS(status));
    copy(prog, at(1, "again"), 0755);
    RUN("exec_again", exec_path, at(1, "again"));
    w = open(at(1, "again"), O_WRONLY);
    printf("%-28s %d %s\n", "open_wronly_after_exit", w < 0 ? -1 : 0, w < 0 ? errname(errno) : "-");
    close(w);
    put(at(1, "again"), "#!/bin/sh\nexit 5\n", 0755);  /* the same inode, new contents */
    RUN("exec_rewritten", exec_path, at(1, "again"));
  }

  printf("-- scripts\n");
  char text[1024];
  snprintf(text, sizeof text, "#!%s\n", prog);
  run_script("script", "plain", text);
  RUN("script_relative", exec_relative, "./plain");
  RUN("script_at_dirfd", exec_at_dirfd, "plain");
  RUN("script_fd_cloexec", exec_fd_cloexec, at(1, "plain"));
  RUN("script_fd_kept", exec_fd_kept, at(1, "plain"));
  RUN("script_empty_argv", exec_empty_argv, at(1, "plain"));
  snprintf(text, sizeof text, "#!%s one\n", prog);
  run_script("script_arg", "arg", text);
  snprintf(text, sizeof text, "#! \t%s   two  words \t\nrest\n", prog);
  run_script("script_spaces", "spaces", text);
  snprintf(text, sizeof text, "#!%s", prog);  /* no newline at all */
  run_script("script_no_newline", "no_newline", text);
  run_script("script_no_interpreter", "bare", "#!\n");
  run_script("script_blank", "blank", "#!   \t \n");
  memset(text, 'a', sizeof text);
  memcpy(text, "#!/", 3);
  text[400] = 0;
  run_script("script_long_name", "long", text);
  snprintf(text, sizeof text, "#!%s/nowhere\n", dir);
  run_script("script_missing_interp", "lost", text);
  snprintf(text, sizeof text, "#!%s/sub\n", dir);
  run_script("script_dir_interp", "dirinterp", text);
  snprintf(text, sizeof text, "#!%s/noexec\n", dir);
  run_script("script_noexec_interp", "noxinterp", text);
  put(at(1, "noxscript"), "#!/bin/true\n", 0644);
  RUN("script_no_x_bit", exec_path, at(1, "noxscript"));
  put(at(1, "sh"), "#!/bin/sh\necho \"sh: $# args\"\nexit 3\n", 0755);
  RUN("script_host_interp", exec_path, at(1, "sh"));
  put(at(1, "busyscript"), "#!/bin/true\n", 0755);
  {
    int w = open(at(1, "busyscript"), O_WRONLY);
    RUN("script_busy", exec_path, at(1, "busyscript"));
    close(w);
  }
  /* Chains: s1 -> s2 -> ... -> prog, at most five #! lines. */
  for (int depth = 4; depth <= 6; depth++) {
    for (int i = 1; i <= depth; i++) {
      char name[16], next[600];
      snprintf(name, sizeof name, "c%d_%d", depth, i);
      if (i < depth)
        snprintf(next, sizeof next, "#!%s/c%d_%d arg%d\n", dir, depth, i + 1, i);
      else
        snprintf(next, sizeof next, "#!%s last\n", prog);
      put(at(2, name), next, 0755);
    }
    char first[16], label[32];
    snprintf(first, sizeof first, "c%d_1", depth);
    snprintf(label, sizeof label, "script_chain_%d", depth);
    RUN(label, exec_path, at(3, first));
  }

  printf("-- peers\n");  /* gVisor's, LTP's and Linux's own exec tests, on this filesystem */
  char abs_prog[600];
  snprintf(abs_prog, sizeof abs_prog, "%s", prog);
  mkdir(at(1, "sub"), 0755);
  copy(prog, at(1, "sub/inner"), 0755);
  symlink("sub", at(1, "dirlink"));
  copy(prog, at(1, "mode644"), 0644);
  RUN("empty_path", exec_path, "");
  {
    struct At a = {.dir_path = prog, .dir_flags = O_RDONLY, .path = "", .flags = 0};
    RUN("fd_empty_path_no_flag", exec_at, &a);
    struct At b = {.dir_path = dir, .dir_flags = O_RDONLY | O_DIRECTORY, .path = "", .flags = AT_EMPTY_PATH};
    RUN("dirfd_empty_path", exec_at, &b);
    struct At c = {.dir_path = prog, .dir_flags = O_RDONLY, .path = "prog", .flags = 0};
    RUN("file_fd_relative_name", exec_at, &c);
    struct At d = {.dirfd = 99, .path = "", .flags = AT_EMPTY_PATH};
    RUN("bad_fd_empty_path", exec_at, &d);
    struct At e = {.dirfd = 99, .path = "prog", .flags = 0};
    RUN("bad_fd_relative", exec_at, &e);
    struct At f = {.dirfd = 99, .path = abs_prog, .flags = 0};
    RUN("bad_fd_absolute_path", exec_at, &f);
    struct At g = {.dir_path = prog, .dir_flags = O_PATH, .path = abs_prog, .flags = AT_EMPTY_PATH};
    RUN("empty_path_flag_with_path", exec_at, &g);
    struct At h = {.dir_path = dir, .dir_flags = O_PATH | O_DIRECTORY, .path = "prog", .flags = AT_EMPTY_PATH};
    RUN("opath_dirfd_with_flag", exec_at, &h);
    struct At i = {.dir_path = at(2, "sub"), .dir_flags = O_RDONLY | O_DIRECTORY, .path = "../prog"};
    RUN("subdir_dotdot", exec_at, &i);
    struct At j = {.dirfd = -1, .path = "", .flags = 0xffff};
    RUN("invalid_flags_first", exec_at, &j);
    struct At k = {.dir_path = dir, .dir_flags = O_RDONLY | O_DIRECTORY, .path = "link", .flags = AT_SYMLINK_NOFOLLOW};
    RUN("nofollow_relative", exec_at, &k);
    struct At l = {.dirfd = AT_FDCWD, .path = at(3, "dirlink/inner"), .flags = AT_SYMLINK_NOFOLLOW};
    RUN("nofollow_ancestor_link", exec_at, &l);
    struct At m = {.dir_path = at(2, "link"), .dir_flags = O_RDONLY, .path = "", .flags = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
                   .empty_path_name = "prog"};
    RUN("fd_via_link_nofollow", exec_at, &m);
    struct At n = {.dir_path = prog, .dir_flags = O_RDONLY | O_CLOEXEC, .path = "", .flags = AT_EMPTY_PATH,
                   .empty_path_name = "prog"};
    RUN("elf_cloexec_fd", exec_at, &n);
    struct At o = {.dir_path = dir, .dir_flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC, .path = "plain"};
    RUN("script_cloexec_dirfd", exec_at, &o);
    struct At p = {.dir_path = at(2, "mode644"), .dir_flags = O_RDONLY, .path = "", .flags = AT_EMPTY_PATH};
    RUN("fd_not_executable", exec_at, &p);
    struct At q = {.dir_path = at(2, "mode644"), .dir_flags = O_PATH, .path = "", .flags = AT_EMPTY_PATH};
    RUN("opath_fd_not_executable", exec_at, &q);
    struct At r = {.dir_path = prog, .dir_flags = O_RDONLY, .path = "", .flags = AT_EMPTY_PATH, .lseek_to = 10,
                   .empty_path_name = "prog"};
    RUN("fd_offset_ignored", exec_at, &r);
    copy(prog, at(2, "ephemeral"), 0755);
    struct At t = {.dir_path = at(2, "ephemeral"), .dir_flags = O_RDONLY, .path = "", .flags = AT_EMPTY_PATH,
                   .rename_to = at(3, "renamed"), .empty_path_name = "renamed"};
    RUN("fd_of_renamed_file", exec_at, &t);
    struct At u = {.dir_path = at(2, "renamed"), .dir_flags = O_PATH, .path = "", .flags = AT_EMPTY_PATH,
                   .rename_to = at(3, "renamed2"), .unlink_it = 1, .empty_path_name = "renamed2"};
    RUN("fd_of_unlinked_file", exec_at, &u);
    snprintf(text, sizeof text, "#!%s\n", prog);
    put(at(2, "ephemeral_script"), text, 0755);
    struct At v = {.dir_path = at(2, "ephemeral_script"), .dir_flags = O_RDONLY, .path = "", .flags = AT_EMPTY_PATH,
                   .rename_to = at(3, "gone_script"), .unlink_it = 1, .empty_path_name = "prog"};
    RUN("fd_of_unlinked_script", exec_at, &v);
    mkdir(at(2, "olddir"), 0755);
    put(at(2, "olddir/script"), text, 0755);
    put(at(2, "script"), text, 0755);
    struct At w = {.dir_path = at(2, "olddir"), .dir_flags = O_RDONLY | O_DIRECTORY, .path = "script",
                   .rename_to = at(3, "newdir"), .rmdir_it = 1};
    RUN("removed_dirfd_script", exec_at, &w);
    mkdir(at(2, "olddir"), 0755);
    put(at(2, "olddir/script"), text, 0755);
    struct At x = {.dir_path = at(2, "olddir"), .dir_flags = O_RDONLY | O_DIRECTORY, .path = "../script",
                   .rename_to = at(3, "newdir2"), .rmdir_it = 1};
    RUN("removed_dirfd_dotdot", exec_at, &x);
  }
  {
    char buf[700];
    int n = snprintf(buf, sizeof buf, "#!%s foo", prog);
    memcpy(buf + n, "\0bar\n", 5);
    int fd = open(at(1, "nul_line"), O_WRONLY | O_CREAT | O_TRUNC, 0755);
    (void)!write(fd, buf, (size_t)n + 5);
    close(fd);
    RUN("script_nul_in_line", exec_path, at(1, "nul_line"));
    snprintf(buf, sizeof buf, "#!%s  \t \n", prog);
    put(at(1, "trailing_ws"), buf, 0755);
    RUN("script_trailing_whitespace", exec_path, at(1, "trailing_ws"));
    snprintf(buf, sizeof buf, "#!%s\r\n", prog);
    put(at(1, "crlf"), buf, 0755);
    RUN("script_crlf", exec_path, at(1, "crlf"));
    /* The 256-byte buffer: the interpreter padded with slashes to fill it
     * (named through the cwd: the same length wherever DIR is). */
    const char* cwd_prog = "/proc/self/cwd/prog";
    for (int len = 254; len <= 257; len++) {
      char line[300];
      size_t plen = strlen(cwd_prog);
      memset(line, '/', sizeof line);
      memcpy(line, "#!", 2);
      memcpy(line + len - plen, cwd_prog, plen);
      char name[32], label[48];
      snprintf(name, sizeof name, "fill%d", len);
      fd = open(at(1, name), O_WRONLY | O_CREAT | O_TRUNC, 0755);
      (void)!write(fd, line, (size_t)len);
      close(fd);
      snprintf(label, sizeof label, "script_buffer_%d", len);
      static char rel[8][48];
      snprintf(rel[len - 254], sizeof rel[0], "./%s", name);
      RUN(label, exec_relative, rel[len - 254]);
    }
    char longarg[700];
    n = snprintf(longarg, sizeof longarg, "#!%s ", cwd_prog);
    memset(longarg + n, 'a', 400);
    longarg[n + 400] = '\n';
    longarg[n + 401] = 0;
    put(at(1, "long_arg"), longarg, 0755);
    RUN("script_arg_cut_at_buffer", exec_relative, "./long_arg");
    put(at(1, "relinterp"), "#!prog rel\n", 0755);
    RUN("script_relative_interp_cwd", exec_relative, "./relinterp");
    RUN("script_relative_interp_elsewhere", exec_from_root, at(1, "relinterp"));
    snprintf(buf, sizeof buf, "#!%s/sub/../prog\n", dir);
    put(at(1, "unclean"), buf, 0755);
    RUN("script_unclean_interp", exec_path, at(1, "unclean"));
  }
  symlink("loop_b", at(1, "loop_a"));
  symlink("loop_a", at(1, "loop_b"));
  RUN("symlink_loop", exec_path, at(1, "loop_a"));
  snprintf(text, sizeof text, "#!%s/loop_a\n", dir);
  run_script("script_interp_loop", "loop_interp", text);
  for (int i = 0; i <= 40; i++) {
    char name[16], target[16];
    snprintf(name, sizeof name, "l%d", i);
    if (i == 40)
      snprintf(target, sizeof target, "prog");
    else
      snprintf(target, sizeof target, "l%d", i + 1);
    symlink(target, at(1, name));
  }
  RUN("symlinks_40", exec_path, at(1, "l1"));
  RUN("symlinks_41", exec_path, at(1, "l0"));
  snprintf(text, sizeof text, "#!%s/self\n", dir);
  run_script("script_self", "self", text);
  snprintf(text, sizeof text, "%s/", prog);
  RUN("trailing_slash", exec_path, text);
  {
    char longname[400];
    memset(longname, 'n', 300);
    longname[300] = 0;
    snprintf(text, sizeof text, "%s/%s", dir, longname);
    RUN("name_too_long", exec_path, text);
  }
  RUN("bad_path_pointer", exec_bad_path_pointer, NULL);
  RUN("null_argv_envp", exec_null_argv_envp, prog);
  RUN("leader_with_sibling", exec_with_sibling, prog);
  RUN("vfork_clone_files", exec_vfork_files, prog);
  RUN("tmpfs_fds_cloexec", exec_tmpfs_fds, prog);
  RUN("concurrent_execs", exec_many, prog);
  fflush(stdout);
  return 0;
}
