/* Decoding, running and printing fuzz programs (program.h). */
#define _GNU_SOURCE
#include "program.h"

#include <limits.h>
#include <sys/sysmacros.h>

#include "protocol.h"
#include "runtime.h"
#include "runtime_text.h" /* runtime.h's text, for the C reproducers */

/* ---- the tables an argument's bytes choose from ---- */

/* Paths, relative to the scratch directory (the program's cwd in the
 * mount) unless absolute. Host paths are read-only under `ukcov fuzz`. */
#define LONG_NAME                                                                                                  \
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
static const char* const kPaths[] = {
    "a", "b", "c", "a/b", "a/b/c", "b/a", "a/c", ".", "..", "a/", "a/.", "a/..", "", "l", "a/l", "l/b",
    "f\377", LONG_NAME, LONG_NAME "y", "/", "../s/a", "/proc/self/cwd/a", "/proc/self/fd/3", "/proc/self/fd/4",
    "/dev/fd/5", FUZZ_KCOV, "/sys/kernel/debug", "/sys/kernel/debug/x", "/dev/null", "//a", "a//b", "fifo",
    FUZZ_SCRATCH "/b", FUZZ_MOUNT, "../..", "/tmp", "l/", "b/", FUZZ_PROGRAM};
enum {
  P_A, P_B, P_C, P_AB, P_ABC, P_BA, P_AC, P_DOT, P_DOTDOT, P_ASLASH, P_ADOT, P_ADOTDOT, P_EMPTY, P_L, P_AL, P_LB,
  P_BADBYTE, P_LONG, P_TOOLONG, P_ROOT, P_BACKIN, P_CWD_A, P_FD3, P_FD4, P_DEVFD5, P_KCOV, P_DEBUGFS, P_DEBUGFS_X,
  P_DEVNULL, P_DOUBLE, P_AB2, P_FIFO, P_ABS_B, P_MOUNT, P_UPUP, P_TMP, P_LSLASH, P_BSLASH, P_PROGRAM, NPATHS
};
_Static_assert(sizeof kPaths / sizeof kPaths[0] == NPATHS, "kPaths and its names");

static const char* const kXattrs[] = {"user.a", "user.b", "trusted.t", "security.s", "user.", "system.posix_acl_access",
                                      "", "x", "user." LONG_NAME};
#define NXATTRS (sizeof kXattrs / sizeof kXattrs[0])

static const int64_t kLengths[16] = {0,    1,    2,     7,
                                     8,    16,   100,   255,
                                     256,  4095, 4096,  4097,
                                     65536, FUZZ_BUF_SIZE, FUZZ_BUF_SIZE + 1, -1};
static const int64_t kOffsets[16] = {0,          1,       4095,       4096,          4097,
                                     65536,      1 << 20, 1ll << 30,  1ll << 40,     -1,
                                     -4096,      LLONG_MAX, LLONG_MAX - 4095, INT_MAX, 1ll << 31,
                                     16};
static const int64_t kValues[16] = {0, 1, 2, 3, 4, 7, 8, 16, 0x100, 0x1000, -1, INT_MAX, 0x7fff, 42, 1024, 0x80000000};
static const int64_t kFds[16] = {-1, AT_FDCWD, 0, 1, 2, 1000, INT_MAX, -100, 15, 3, 4, 5, 6, 7, 8, 9};
static const int64_t kAtFlags[8] = {AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH,
                                    AT_NO_AUTOMOUNT,     AT_STATX_DONT_SYNC, AT_STATX_FORCE_SYNC, 0x80000000};
static const int64_t kOpenFlags[14] = {O_CREAT,   O_EXCL,  O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_PATH,
                                       O_TMPFILE, O_CLOEXEC, O_NOATIME, O_DIRECT, O_SYNC,    O_NOCTTY,   O_DSYNC};
static const int64_t kFallocate[7] = {FALLOC_FL_KEEP_SIZE,  FALLOC_FL_PUNCH_HOLE,  FALLOC_FL_COLLAPSE_RANGE,
                                      FALLOC_FL_ZERO_RANGE, FALLOC_FL_INSERT_RANGE, FALLOC_FL_UNSHARE_RANGE, 0x80};
static const int64_t kFcntl[16] = {F_DUPFD,    F_GETFD,      F_SETFD,      F_GETFL,  F_SETFL,     F_GETLK,
                                   F_SETLK,    F_OFD_GETLK,  F_OFD_SETLK,  F_GETLEASE, F_SETLEASE, F_DUPFD_CLOEXEC,
                                   F_ADD_SEALS, F_GET_SEALS, F_GETPIPE_SZ, 1000};
static const int64_t kIoctls[14] = {FUZZ_KCOV_INIT_TRACE,
                                    FUZZ_KCOV_ENABLE,
                                    FUZZ_KCOV_DISABLE,
                                    FUZZ_KCOV_REMOTE_ENABLE,
                                    _IOW('c', 103, unsigned long), /* KCOV_UNIQUE_ENABLE */
                                    _IO('c', 104),                 /* KCOV_RESET_TRACE */
                                    FS_IOC_GETFLAGS,
                                    FS_IOC_SETFLAGS,
                                    FIONREAD,
                                    FICLONE,
                                    FIGETBSZ,
                                    FIONBIO,
                                    TCGETS,
                                    _IO('c', 200)};
static const int64_t kMknodTypes[6] = {S_IFREG, S_IFIFO, S_IFCHR, S_IFSOCK, S_IFDIR, S_IFBLK};
static const int64_t kIds[4] = {0, 65534, 1000, -1};

/* ---- the calls ---- */

/* An argument's kind, by letter:
 *   d dirfd (AT_FDCWD, or a slot)   f fd (a slot, or a bad fd)   p path
 *   o/i a pointer (buf; a slot: a mapping; bad pointers)   n length
 *   x offset   v value   O open flags   m mode   a AT_* flags   w whence
 *   F fallocate mode   R rename flags   c fcntl command   X xattr name
 *   I ioctl command   T times   V iovec array   k iovec count   H open_how
 *   h open_how size   K kcov remote arg   M prot   G mmap flags
 *   q address (a slot or NULL)   u uid/gid   L flock operation   S statx mask
 *   N mknod mode   D device   A access mode   U umask   t dup target
 *   l a struct flock   E argv   e envp   s socket type   Y AF_UNIX address
 *   y address length   P AF_UNIX */
struct op {
  const char* name;
  long nr;
  const char* args;
  int stores; /* the result goes to a slot */
};

static const struct op kOps[] = {
    {"openat", SYS_openat, "dpOm", 1},
    {"close", SYS_close, "f", 0},
    {"read", SYS_read, "fon", 0},
    {"write", SYS_write, "fin", 0},
    {"pread64", SYS_pread64, "fonx", 0},
    {"pwrite64", SYS_pwrite64, "finx", 0},
    {"readv", SYS_readv, "fVk", 0},
    {"writev", SYS_writev, "fVk", 0},
    {"lseek", SYS_lseek, "fxw", 0},
    {"ftruncate", SYS_ftruncate, "fx", 0},
    {"truncate", SYS_truncate, "px", 0},
    {"fallocate", SYS_fallocate, "fFxx", 0},
    {"fsync", SYS_fsync, "f", 0},
    {"mkdirat", SYS_mkdirat, "dpm", 0},
    {"unlinkat", SYS_unlinkat, "dpa", 0},
    {"renameat2", SYS_renameat2, "dpdpR", 0},
    {"linkat", SYS_linkat, "dpdpa", 0},
    {"symlinkat", SYS_symlinkat, "pdp", 0},
    {"readlinkat", SYS_readlinkat, "dpon", 0},
    {"newfstatat", SYS_newfstatat, "dpoa", 0},
    {"statx", SYS_statx, "dpaSo", 0},
    {"fchmodat", SYS_fchmodat, "dpm", 0},
    {"fchmod", SYS_fchmod, "fm", 0},
    {"fchownat", SYS_fchownat, "dpuua", 0},
    {"utimensat", SYS_utimensat, "dpTa", 0},
    {"getdents64", SYS_getdents64, "fon", 0},
    {"chdir", SYS_chdir, "p", 0},
    {"fchdir", SYS_fchdir, "f", 0},
    {"faccessat2", SYS_faccessat2, "dpAa", 0},
    {"setxattr", SYS_setxattr, "pXinv", 0},
    {"fsetxattr", SYS_fsetxattr, "fXinv", 0},
    {"getxattr", SYS_getxattr, "pXon", 0},
    {"listxattr", SYS_listxattr, "pon", 0},
    {"removexattr", SYS_removexattr, "pX", 0},
    {"mmap", SYS_mmap, "qnMGfx", 1},
    {"munmap", SYS_munmap, "qn", 0},
    {"fcntl", SYS_fcntl, "fcv", 1},
    {"flock", SYS_flock, "fL", 0},
    {"dup", SYS_dup, "f", 1},
    {"dup3", SYS_dup3, "ftv", 0},
    {"copy_file_range", SYS_copy_file_range, "f0f0nv", 0},
    {"sendfile", SYS_sendfile, "ff0n", 0},
    {"mknodat", SYS_mknodat, "dpND", 0},
    {"ioctl", SYS_ioctl, "fIv", 0},
    {"statfs", SYS_statfs, "po", 0},
    {"fstatfs", SYS_fstatfs, "fo", 0},
    {"umask", SYS_umask, "U", 0},
    {"setresuid", SYS_setresuid, "uuu", 0},
    {"setresgid", SYS_setresgid, "uuu", 0},
    {"fadvise64", SYS_fadvise64, "fxxv", 0},
    {"openat2", SYS_openat2, "dpHh", 1},
    {"readahead", SYS_readahead, "fxn", 0},
    {"fstat", SYS_fstat, "fo", 0},
    {"fgetxattr", SYS_fgetxattr, "fXon", 0},
    {"ioctl", SYS_ioctl, "fIo", 0},       /* the argument a pointer */
    {"ioctl", SYS_ioctl, "fIK", 0},       /* KCOV_REMOTE_ENABLE's argument */
    {"fcntl", SYS_fcntl, "fcl", 0},       /* a lock */
    {"ftruncate", SYS_ftruncate, "fn", 0}, /* small sizes */
    {"execve", SYS_execve, "pEe", 0},
    {"execveat", SYS_execveat, "dpEea", 0},
    {"socket", SYS_socket, "Ps0", 1},
    {"bind", SYS_bind, "fYy", 0},
    {"connect", SYS_connect, "fYy", 0},
    {"listen", SYS_listen, "fv", 0},
};
#define NOPS (sizeof kOps / sizeof kOps[0])
/* Selectors past the calls: sections. */
enum { SEL_FORK = NOPS, SEL_THREAD, NSELECTORS };

/* ---- decoding ---- */

struct reader {
  const uint8_t* data;
  size_t size, pos;
};

static uint8_t u8(struct reader* rd) { return rd->pos < rd->size ? rd->data[rd->pos++] : 0; }
static uint16_t u16(struct reader* rd) { return (uint16_t)(u8(rd) | u8(rd) << 8); }
static uint32_t u32(struct reader* rd) { return (uint32_t)u16(rd) | (uint32_t)u16(rd) << 16; }

static struct fuzz_arg Const(int64_t v) { return (struct fuzz_arg){FUZZ_CONST, v, NULL}; }
static struct fuzz_arg Slot(int s) { return (struct fuzz_arg){FUZZ_SLOT, s, NULL}; }
static struct fuzz_arg Of(enum fuzz_arg_kind k, int64_t v) { return (struct fuzz_arg){k, v, NULL}; }

static int64_t Bits(uint32_t bits, const int64_t* table, int n) {
  int64_t v = 0;
  for (int i = 0; i < n; i++)
    if (bits & (1u << i)) v |= table[i];
  return v;
}

/* A pointer; `in` for what a call reads (write's data): then also one of
 * the contents an exec reads (runtime.h's FUZZ_CONTENT). */
static struct fuzz_arg Pointer(struct reader* rd, int in) {
  uint8_t b = u8(rd);
  if (in && b >= 0xa0 && b < 0xc0) return Of(FUZZ_BUF, (b & 7) == 7 ? FUZZ_CONTENT_PROGRAM : FUZZ_CONTENT(b & 7));
  if (b < 0xc0) return Of(FUZZ_BUF, 0);
  if (b < 0xd0) return Slot(b & 15);
  static const int64_t bad[8] = {0, 1, 0x1000, -1, (int64_t)0xffffffffff600000ull, 0x7ffffffff000,
                                 (int64_t)0xffff800000000000ull, 0};
  if ((b & 7) == 7) return Of(FUZZ_BUF, FUZZ_BUF_SIZE - 1); /* one byte before the guard */
  return Const(bad[b & 7]);
}

static struct fuzz_arg Decode(char kind, struct reader* rd) {
  uint8_t b;
  switch (kind) {
    case 'd':
      b = u8(rd);
      return b < 0xc0 ? Const(AT_FDCWD) : Slot(b & 15);
    case 'f':
      b = u8(rd);
      return b < 0xf0 ? Slot(b & 15) : Const(kFds[b & 15]);
    case 'p': {
      struct fuzz_arg a = {FUZZ_STRING, 0, kPaths[u8(rd) % NPATHS]};
      return a;
    }
    case 'X': {
      struct fuzz_arg a = {FUZZ_STRING, 0, kXattrs[u8(rd) % NXATTRS]};
      return a;
    }
    case 'o':
      return Pointer(rd, 0);
    case 'i':
      return Pointer(rd, 1);
    case 'n':
      b = u8(rd);
      if (b < 16) return Const(kLengths[b]);
      return Const(b < 0x80 ? b : u16(rd));
    case 'x':
      b = u8(rd);
      if (b < 16) return Const(kOffsets[b]);
      return Const(b < 0x80 ? (int64_t)b * 512 : (int64_t)u32(rd));
    case 'v':
      b = u8(rd);
      return Const(b < 0x80 ? kValues[b & 15] : (int64_t)u32(rd));
    case '0':
      return Const(0);
    case 'O': {
      uint16_t bits = u16(rd);
      /* Never blocks: a FIFO's open answers at once (ENXIO, or a peer). */
      return Const((bits & 3) | Bits(bits >> 2, kOpenFlags, 14) | O_NONBLOCK);
    }
    case 'm':
      return Const(u16(rd) & 07777);
    case 'a':
      return Const(Bits(u8(rd), kAtFlags, 8));
    case 'w': {
      static const int64_t whence[8] = {SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE, 5, -1, SEEK_SET};
      return Const(whence[u8(rd) & 7]);
    }
    case 'F':
      return Const(Bits(u8(rd), kFallocate, 7));
    case 'R':
      return Const(u8(rd) & 0xf);
    case 'c':
      return Const(kFcntl[u8(rd) & 15]);
    case 'I':
      return Const(kIoctls[u8(rd) % 14]);
    case 'T':
      b = u8(rd) % 5;
      return b == 4 ? Const(0) : Of(FUZZ_TIMES, b);
    case 'V':
      b = u8(rd) % 4;
      return b == 3 ? Const(0) : Of(FUZZ_IOV, b);
    case 'k': {
      static const int64_t counts[8] = {1, 2, 3, 4, 0, 1025, -1, 1};
      return Const(counts[u8(rd) & 7]);
    }
    case 'H':
      b = u8(rd) % 5;
      return b == 4 ? Const(0) : Of(FUZZ_HOW, b);
    case 'h': {
      static const int64_t sizes[4] = {24, 32, 8, 4096};
      return Const(sizes[u8(rd) & 3]);
    }
    case 'K':
      return Of(FUZZ_REMOTE, u8(rd) % 3);
    case 'l':
      return Of(FUZZ_LOCK, u8(rd) % 3);
    case 'M':
      return Const(u8(rd) & 7);
    case 'G': {
      static const int64_t flags[6] = {MAP_SHARED, MAP_PRIVATE, MAP_POPULATE, MAP_NORESERVE, MAP_FIXED_NOREPLACE,
                                       MAP_ANONYMOUS};
      /* Never MAP_FIXED: a program may not map over the executor. */
      return Const(Bits(u8(rd), flags, 6));
    }
    case 'q':
      b = u8(rd);
      return b < 0x80 ? Const(0) : Slot(b & 15);
    case 'u':
      return Const(kIds[u8(rd) & 3]);
    case 'L': {
      static const int64_t ops[4] = {LOCK_SH, LOCK_EX, LOCK_UN, 0};
      return Const(ops[u8(rd) & 3] | LOCK_NB); /* never waits */
    }
    case 'S':
      return Const(u16(rd) | (u8(rd) == 0xff ? 0x80000000 : 0));
    case 'N': {
      uint16_t bits = u16(rd);
      return Const(kMknodTypes[(bits >> 12) % 6] | (bits & 07777));
    }
    case 'D': {
      static const int64_t devs[4] = {0, 0, 0x103 /* 1:3 */, 0x105 /* 1:5 */};
      return Const(devs[u8(rd) & 3]);
    }
    case 'A':
      return Const(u8(rd) & 0xf);
    case 'U':
      return Const(u16(rd) & 0777);
    case 't':
      return Const(3 + u8(rd) % 13);
    case 'E':
      b = u8(rd) & 3;
      return b == 0 ? Const(0) : b == 3 ? Const(1) : Of(FUZZ_ARGV, b - 1);
    case 'e':
      b = u8(rd) % 3;
      return b == 0 ? Const(0) : Of(FUZZ_ARGV, b == 1 ? 2 : 0);
    case 'P':
      return Const(AF_UNIX);
    case 's': {
      /* Never blocks: a connect to a full backlog answers EAGAIN. */
      static const int64_t types[4] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW};
      b = u8(rd);
      return Const(types[b & 3] | SOCK_NONBLOCK | (b & 4 ? SOCK_CLOEXEC : 0));
    }
    case 'Y': {
      struct fuzz_arg a = {FUZZ_SOCKADDR, 0, kPaths[u8(rd) % NPATHS]};
      return a;
    }
    case 'y': {
      static const int64_t lengths[8] = {sizeof(struct sockaddr_un), sizeof(struct sockaddr_un), 2, 3, 200, 0, 16,
                                         sizeof(struct sockaddr_un) + 1};
      return Const(lengths[u8(rd) & 7]);
    }
  }
  return Const(0);
}

void fuzz_decode(const uint8_t* data, size_t size, struct fuzz_program* program) {
  struct reader rd = {data, size, 0};
  program->ncalls = 0;
  while (rd.pos < rd.size && program->ncalls < FUZZ_MAX_CALLS) {
    struct fuzz_call* call = &program->calls[program->ncalls++];
    memset(call, 0, sizeof *call);
    call->result_slot = -1;
    unsigned selector = u8(&rd) % NSELECTORS;
    if (selector >= NOPS) {
      call->kind = selector == SEL_FORK ? FUZZ_FORK : FUZZ_THREAD;
      call->count = 1 + u8(&rd) % 8;
      continue;
    }
    const struct op* op = &kOps[selector];
    call->kind = FUZZ_SYSCALL;
    call->name = op->name;
    call->nr = op->nr;
    for (const char* k = op->args; *k; k++) call->args[call->nargs++] = Decode(*k, &rd);
    /* A block device node is only ever 0:0 (no host disk behind it). */
    if (call->nr == SYS_mknodat && (call->args[2].value & S_IFMT) == S_IFBLK) call->args[3].value = 0;
    /* F_SETFL keeps O_NONBLOCK: a read never waits for a FIFO's writer. */
    if (call->nr == SYS_fcntl && call->args[1].value == F_SETFL && call->args[2].kind == FUZZ_CONST)
      call->args[2].value |= O_NONBLOCK;
    /* A kcov area of at most 2^20 words (8 MiB): one of 2^28 words is 2 GiB
     * of the host's memory once enabled, as it would be on Linux, and a
     * program may hold sixteen. Sizes past INT_MAX / 8 (EINVAL) stay. */
    if (call->nr == SYS_ioctl && call->args[1].value == FUZZ_KCOV_INIT_TRACE && call->args[2].kind == FUZZ_CONST &&
        call->args[2].value > (1 << 20) && call->args[2].value <= INT_MAX / 8)
      call->args[2].value = 1 << 20;
    if (op->stores) call->result_slot = u8(&rd) & 15;
  }
  /* A section runs at most the calls that follow it (nested ones within
   * their parent's): clipped here, so running and printing agree. */
  for (int i = 0; i < program->ncalls; i++) {
    struct fuzz_call* call = &program->calls[i];
    if (call->kind == FUZZ_SYSCALL) continue;
    int end = program->ncalls;
    for (int j = 0; j < i; j++) {
      const struct fuzz_call* outer = &program->calls[j];
      if (outer->kind != FUZZ_SYSCALL && j + 1 + outer->count > i && j + 1 + outer->count < end)
        end = j + 1 + outer->count;
    }
    if (i + 1 + call->count > end) call->count = end - i - 1;
  }
}

/* ---- running ---- */

static long Value(const struct fuzz_arg* a) {
  switch (a->kind) {
    case FUZZ_CONST:
      return (long)a->value;
    case FUZZ_SLOT:
      return r[a->value];
    case FUZZ_STRING:
      return (long)a->string;
    case FUZZ_BUF:
      return (long)(buf + a->value);
    case FUZZ_TIMES:
      return (long)fuzz_times[a->value];
    case FUZZ_IOV:
      return (long)fuzz_iov[a->value];
    case FUZZ_HOW:
      return (long)&fuzz_how[a->value];
    case FUZZ_REMOTE:
      return (long)&fuzz_remote[a->value];
    case FUZZ_LOCK:
      return (long)&fuzz_locks[a->value];
    case FUZZ_ARGV:
      return (long)fuzz_argv[a->value];
    case FUZZ_SOCKADDR:
      return (long)fuzz_unix_address(a->string);
  }
  return 0;
}

static void PrintCall(const struct fuzz_call* call, FILE* out);

struct range {
  const struct fuzz_program* program;
  int begin, end;
  FILE* trace;
};

static void ExecuteRange(void* p) {
  const struct range* range = p;
  for (int i = range->begin; i < range->end; i++) {
    const struct fuzz_call* call = &range->program->calls[i];
    if (call->kind != FUZZ_SYSCALL) {
      struct range body = {range->program, i + 1, i + 1 + call->count, range->trace};
      if (range->trace) {
        fprintf(range->trace, "%s section of %d calls\n", call->kind == FUZZ_FORK ? "fork" : "thread", call->count);
        fflush(range->trace); /* not again from the child's copy of the buffer */
      }
      if (call->kind == FUZZ_FORK)
        fuzz_run_fork(ExecuteRange, &body);
      else
        fuzz_run_thread(ExecuteRange, &body);
      i += call->count;
      continue;
    }
    long a[FUZZ_MAX_ARGS] = {0};
    for (int k = 0; k < call->nargs; k++) a[k] = Value(&call->args[k]);
    errno = 0;
    long ret = syscall(call->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    int err = errno;
    if (call->result_slot >= 0) r[call->result_slot] = ret;
    if (range->trace) {
      PrintCall(call, range->trace);
      if (ret == -1)
        fprintf(range->trace, " = -1 (%s)\n", strerrorname_np(err) ? strerrorname_np(err) : "?");
      else
        fprintf(range->trace, " = %ld\n", ret);
      fflush(range->trace);
    }
  }
}

void fuzz_execute(const struct fuzz_program* program, FILE* trace) {
  struct range all = {program, 0, program->ncalls, trace};
  ExecuteRange(&all);
}

/* ---- printing ---- */

static void PrintString(const char* s, FILE* out) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c >= 0x20 && c < 0x7f)
      fputc(c, out);
    else
      fprintf(out, "\\%03o", c);
  }
  fputc('"', out);
}

static void PrintArg(const struct fuzz_arg* a, FILE* out) {
  switch (a->kind) {
    case FUZZ_CONST:
      if (a->value == AT_FDCWD)
        fputs("AT_FDCWD", out);
      else if (a->value >= -4096 && a->value <= 4096)
        fprintf(out, "%lld", (long long)a->value);
      else
        fprintf(out, "0x%llxul", (unsigned long long)a->value);
      return;
    case FUZZ_SLOT:
      fprintf(out, "r[%lld]", (long long)a->value);
      return;
    case FUZZ_STRING:
      fputs("(long)", out);
      PrintString(a->string, out);
      return;
    case FUZZ_BUF:
      fprintf(out, "(long)(buf + %lld)", (long long)a->value);
      return;
    case FUZZ_TIMES:
      fprintf(out, "(long)fuzz_times[%lld]", (long long)a->value);
      return;
    case FUZZ_IOV:
      fprintf(out, "(long)fuzz_iov[%lld]", (long long)a->value);
      return;
    case FUZZ_HOW:
      fprintf(out, "(long)&fuzz_how[%lld]", (long long)a->value);
      return;
    case FUZZ_REMOTE:
      fprintf(out, "(long)&fuzz_remote[%lld]", (long long)a->value);
      return;
    case FUZZ_LOCK:
      fprintf(out, "(long)&fuzz_locks[%lld]", (long long)a->value);
      return;
    case FUZZ_ARGV:
      fprintf(out, "(long)fuzz_argv[%lld]", (long long)a->value);
      return;
    case FUZZ_SOCKADDR:
      fputs("(long)fuzz_unix_address(", out);
      PrintString(a->string, out);
      fputs(")", out);
      return;
  }
}

static void PrintCall(const struct fuzz_call* call, FILE* out) {
  if (call->result_slot >= 0) fprintf(out, "r[%d] = ", call->result_slot);
  fprintf(out, "syscall(SYS_%s", call->name);
  for (int k = 0; k < call->nargs; k++) {
    fputs(", ", out);
    PrintArg(&call->args[k], out);
  }
  fputs(")", out);
}

/* Prints calls [begin, end) as the body of a function; sections become
 * calls of functions named by their index. */
static void PrintBody(const struct fuzz_program* program, int begin, int end, FILE* out) {
  for (int i = begin; i < end; i++) {
    const struct fuzz_call* call = &program->calls[i];
    fputs("  ", out);
    if (call->kind != FUZZ_SYSCALL) {
      fprintf(out, "%s(section_%d, NULL);\n", call->kind == FUZZ_FORK ? "fuzz_run_fork" : "fuzz_run_thread", i);
      i += call->count;
      continue;
    }
    PrintCall(call, out);
    fputs(";\n", out);
  }
}

void fuzz_print_c(const struct fuzz_program* program, const char* source, FILE* out) {
  fprintf(out, "/* A ukcov fuzz program, from %s.\n", source);
  fputs(" * Build: cc -static -pthread -o repro repro.c\n"
        " * Run:   ukcov fuzz --replay repro.c (the sandbox it was found in), or as root on a\n"
        " *        scratch machine: mkdir -p " FUZZ_MOUNT " && ukcov run --check-invariants --tmpfs " FUZZ_MOUNT
        ":" UKCOV_FUZZ_MOUNT_OPTIONS " -- ./repro */\n",
        out);
  fputs(fuzz_runtime_text, out);
  fputs("\n", out);
  for (int i = 0; i < program->ncalls; i++)
    if (program->calls[i].kind != FUZZ_SYSCALL) fprintf(out, "static void section_%d(void* unused);\n", i);
  for (int i = 0; i < program->ncalls; i++) {
    const struct fuzz_call* call = &program->calls[i];
    if (call->kind == FUZZ_SYSCALL) continue;
    fprintf(out, "\n/* A %s. */\nstatic void section_%d(void* unused) {\n  (void)unused;\n",
            call->kind == FUZZ_FORK ? "child process" : "thread", i);
    PrintBody(program, i + 1, i + 1 + call->count, out);
    fputs("}\n", out);
  }
  fputs("\nstatic void program(void* unused) {\n  (void)unused;\n", out);
  PrintBody(program, 0, program->ncalls, out);
  fputs("}\n\n"
        "int main(void) {\n"
        "  fuzz_prepare();\n"
        "  int status = fuzz_run(program, NULL);\n"
        "  printf(\"program: status 0x%x, %llu PCs, %llu in sections\\n\", status, (unsigned long long)fuzz_area[0],\n"
        "         (unsigned long long)fuzz_section_area[0]);\n"
        "  return 0;\n"
        "}\n",
        out);
}

/* ---- seeds ---- */

#define O16(v) (uint8_t)((v) & 0xff), (uint8_t)((v) >> 8)
/* open flags' encoding: access mode in bits 0-1, then kOpenFlags's order */
#define OF_CREAT (1 << 2)
#define OF_TRUNC (1 << 4)
#define OF_DIRECTORY (1 << 6)
enum {
  OP_OPENAT, OP_CLOSE, OP_READ, OP_WRITE, OP_PREAD, OP_PWRITE, OP_READV, OP_WRITEV, OP_LSEEK, OP_FTRUNCATE,
  OP_TRUNCATE, OP_FALLOCATE, OP_FSYNC, OP_MKDIRAT, OP_UNLINKAT, OP_RENAMEAT2, OP_LINKAT, OP_SYMLINKAT, OP_READLINKAT,
  OP_NEWFSTATAT, OP_STATX, OP_FCHMODAT, OP_FCHMOD, OP_FCHOWNAT, OP_UTIMENSAT, OP_GETDENTS64, OP_CHDIR, OP_FCHDIR,
  OP_FACCESSAT2, OP_SETXATTR, OP_FSETXATTR, OP_GETXATTR, OP_LISTXATTR, OP_REMOVEXATTR, OP_MMAP, OP_MUNMAP, OP_FCNTL,
  OP_FLOCK, OP_DUP, OP_DUP3, OP_COPY_FILE_RANGE, OP_SENDFILE, OP_MKNODAT, OP_IOCTL, OP_STATFS, OP_FSTATFS, OP_UMASK,
  OP_SETRESUID, OP_SETRESGID, OP_FADVISE, OP_OPENAT2, OP_READAHEAD, OP_FSTAT, OP_FGETXATTR, OP_IOCTL_PTR,
  OP_IOCTL_REMOTE, OP_FCNTL_LOCK, OP_FTRUNCATE_SMALL, OP_EXECVE, OP_EXECVEAT, OP_SOCKET, OP_BIND, OP_CONNECT,
  OP_LISTEN, OP_COUNT
};
_Static_assert(OP_COUNT == NOPS, "the seeds' names of the calls");

static const uint8_t kSeedFile[] = {
    OP_OPENAT, 0, P_A, O16(2 | OF_CREAT), O16(0644), 0,  /* r0 = openat("a", O_RDWR|O_CREAT, 0644) */
    OP_WRITE, 0, 0, 6,                                   /* write(r0, buf, 100) */
    OP_LSEEK, 0, 0, 0,                                   /* lseek(r0, 0, SEEK_SET) */
    OP_READ, 0, 0, 10,                                   /* read(r0, buf, 4096) */
    OP_FTRUNCATE, 0, 4,                                  /* ftruncate(r0, 4097) */
    OP_PWRITE, 0, 0, 6, 5,                               /* pwrite64(r0, buf, 100, 65536) */
    OP_FSTAT, 0, 0,                                      /* fstat(r0, buf) */
    OP_FALLOCATE, 0, 3, 0, 3,                            /* fallocate(r0, KEEP_SIZE|PUNCH_HOLE, 0, 4096) */
    OP_LSEEK, 0, 0, 3,                                   /* lseek(r0, 0, SEEK_DATA) */
    OP_CLOSE, 0,
};
static const uint8_t kSeedDirs[] = {
    OP_MKDIRAT, 0, P_A, O16(0755),                      /* mkdirat("a") */
    OP_MKDIRAT, 0, P_AB, O16(0755),                     /* mkdirat("a/b") */
    OP_OPENAT, 0, P_A, O16(OF_DIRECTORY), O16(0), 1,    /* r1 = openat("a", O_DIRECTORY) */
    OP_GETDENTS64, 1, 0, 10,                            /* getdents64(r1, buf, 4096) */
    OP_UNLINKAT, 0, P_AB, 2,                            /* unlinkat("a/b", AT_REMOVEDIR) */
    OP_GETDENTS64, 1, 0, 10,                            /* getdents64(r1, buf, 4096) */
    OP_CHDIR, P_A,                                      /* chdir("a") */
    OP_NEWFSTATAT, 0, P_DOTDOT, 0, 0,                   /* newfstatat("..") */
    OP_UNLINKAT, 0, P_DOT, 2,                           /* unlinkat(".", AT_REMOVEDIR) */
};
static const uint8_t kSeedNames[] = {
    OP_OPENAT, 0, P_A, O16(1 | OF_CREAT), O16(0600), 0, /* r0 = openat("a", O_WRONLY|O_CREAT) */
    OP_LINKAT, 0, P_A, 0, P_B, 0,                       /* linkat("a", "b") */
    OP_RENAMEAT2, 0, P_B, 0, P_C, 0,                    /* renameat2("b", "c") */
    OP_SYMLINKAT, P_A, 0, P_L,                          /* symlinkat("a", "l") */
    OP_READLINKAT, 0, P_L, 0, 10,                       /* readlinkat("l", buf, 4096) */
    OP_RENAMEAT2, 0, P_A, 0, P_C, 2,                    /* renameat2("a", "c", RENAME_EXCHANGE) */
    OP_UNLINKAT, 0, P_C, 0,                             /* unlinkat("c") */
    OP_NEWFSTATAT, 0, P_L, 0, 0,                        /* newfstatat("l") */
    OP_OPENAT, 0, P_FD3, O16(0), O16(0), 2,             /* r2 = openat("/proc/self/fd/3") */
};
static const uint8_t kSeedAttrs[] = {
    OP_OPENAT, 0, P_A, O16(2 | OF_CREAT), O16(0644), 0, /* r0 = openat("a", O_RDWR|O_CREAT, 0644) */
    OP_FCHMODAT, 0, P_A, O16(04755),                    /* fchmodat("a", 04755) */
    OP_FCHOWNAT, 0, P_A, 1, 1, 0,                       /* fchownat("a", 65534, 65534) */
    OP_UTIMENSAT, 0, P_A, 2, 0,                         /* utimensat("a", times) */
    OP_SETXATTR, P_A, 0, 0, 5, 0,                       /* setxattr("a", "user.a", buf, 16, 0) */
    OP_GETXATTR, P_A, 0, 0, 10,                         /* getxattr("a", "user.a", buf, 4096) */
    OP_LISTXATTR, P_A, 0, 10,                           /* listxattr("a", buf, 4096) */
    OP_STATX, 0, P_A, 0, O16(0xfff), 0, 0,              /* statx("a", STATX_ALL) */
    OP_REMOVEXATTR, P_A, 0,                             /* removexattr("a", "user.a") */
    OP_FACCESSAT2, 0, P_A, 2, 0,                        /* faccessat2("a", W_OK) */
};
static const uint8_t kSeedKcov[] = {
    OP_OPENAT, 0, P_KCOV, O16(2), O16(0), 0,            /* r0 = openat(kcov, O_RDWR) */
    OP_IOCTL, 0, 0, 0x80, O16(4096), O16(0),            /* ioctl(r0, KCOV_INIT_TRACE, 4096) */
    OP_MMAP, 0, 0x80, O16(32768), 3, 1, 0, 0, 1,        /* r1 = mmap(NULL, 32768, RW, SHARED, r0, 0) */
    SEL_FORK, 3,                                        /* a child (the collector is this thread's): */
    OP_IOCTL, 0, 1, 0,                                  /*   ioctl(r0, KCOV_ENABLE, 0) */
    OP_READ, 0xf0, 0, 0,                                /*   read(-1, buf, 0) */
    OP_IOCTL, 0, 2, 0,                                  /*   ioctl(r0, KCOV_DISABLE, 0) */
    OP_IOCTL_REMOTE, 0, 3, 0,                           /*   ioctl(r0, KCOV_REMOTE_ENABLE, &remote[0]) */
    OP_CLOSE, 0,
};
static const uint8_t kSeedSections[] = {
    SEL_FORK, 1,                                        /* a child process: */
    OP_OPENAT, 0, P_A, O16(2 | OF_CREAT), O16(0644), 0, /*   r0 = openat("a", O_RDWR|O_CREAT) */
    OP_WRITE, 0, 0, 6,                                  /*   write(r0, buf, 100) */
    SEL_THREAD, 1,                                      /* a thread: */
    OP_MKDIRAT, 0, P_B, O16(0700),                      /*   mkdirat("b") */
    OP_NEWFSTATAT, 0, P_B, 0, 0,                        /*   newfstatat("b") */
    OP_OPENAT, 0, P_A, O16(0), O16(0), 1,               /* r1 = openat("a") */
    OP_READ, 1, 0, 10,                                  /* read(r1, buf, 4096) */
};
static const uint8_t kSeedMmap[] = {
    OP_OPENAT, 0, P_A, O16(2 | OF_CREAT), O16(0644), 0, /* r0 = openat("a", O_RDWR|O_CREAT) */
    OP_FTRUNCATE, 0, 3,                                 /* ftruncate(r0, 4096) */
    OP_MMAP, 0, 10, 3, 1, 0, 0, 1,                      /* r1 = mmap(NULL, 4096, RW, SHARED, r0, 0) */
    OP_WRITE, 0, 0xc1, 6,                               /* write(r0, r1, 100) */
    OP_PREAD, 0, 0xc1, 10, 0,                           /* pread64(r0, r1, 4096, 0) */
    OP_MUNMAP, 0x81, 10,                                /* munmap(r1, 4096) */
    OP_COPY_FILE_RANGE, 0, 0, 6, 0,                     /* copy_file_range(r0, r0, 100) */
};
static const uint8_t kSeedFifo[] = {
    OP_MKNODAT, 0, P_FIFO, O16(0x1000 | 0644), 0,       /* mknodat("fifo", S_IFIFO|0644) */
    OP_OPENAT, 0, P_FIFO, O16(2), O16(0), 0,            /* r0 = openat("fifo", O_RDWR) */
    OP_WRITE, 0, 0, 6,                                  /* write(r0, buf, 100) */
    OP_READ, 0, 0, 10,                                  /* read(r0, buf, 4096) */
    OP_FCNTL_LOCK, 0, 6, 1,                             /* fcntl(r0, F_SETLK, &locks[1]) */
    OP_FLOCK, 0, 1,                                     /* flock(r0, LOCK_EX|LOCK_NB) */
};
static const uint8_t kSeedExec[] = {
    OP_OPENAT, 0, P_A, O16(2 | OF_CREAT), O16(0755), 0, /* r0 = openat("a", O_RDWR|O_CREAT, 0755) */
    OP_WRITE, 0, 0xa0, 7,                               /* write(r0, "#!/bin/true\n...", 255) */
    OP_CLOSE, 0,                                        /* close(r0) */
    OP_EXECVE, P_A, 1, 1,                               /* execve("a", {"a"}, {"A=1"}) */
};
static const uint8_t kSeedSocket[] = {
    OP_SOCKET, 0, 0,                                    /* r0 = socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK) */
    OP_BIND, 0, P_A, 0,                                 /* bind(r0, "a") */
    OP_LISTEN, 0, 1,                                    /* listen(r0, 1) */
    OP_SOCKET, 0, 1,                                    /* r1 = socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK) */
    OP_CONNECT, 1, P_A, 0,                              /* connect(r1, "a") */
    OP_NEWFSTATAT, 0, P_A, 0, 0,                        /* newfstatat("a") */
    OP_UNLINKAT, 0, P_A, 0,                             /* unlinkat("a") */
};

static const struct {
  const uint8_t* data;
  size_t size;
} kSeeds[] = {
    {kSeedFile, sizeof kSeedFile},   {kSeedDirs, sizeof kSeedDirs},         {kSeedNames, sizeof kSeedNames},
    {kSeedAttrs, sizeof kSeedAttrs}, {kSeedKcov, sizeof kSeedKcov},         {kSeedSections, sizeof kSeedSections},
    {kSeedMmap, sizeof kSeedMmap},   {kSeedFifo, sizeof kSeedFifo},         {kSeedExec, sizeof kSeedExec},
    {kSeedSocket, sizeof kSeedSocket},
};

size_t fuzz_seed_count(void) { return sizeof kSeeds / sizeof kSeeds[0]; }

size_t fuzz_seed(size_t i, uint8_t* out, size_t max) {
  if (i >= fuzz_seed_count()) return 0;
  size_t n = kSeeds[i].size < max ? kSeeds[i].size : max;
  memcpy(out, kSeeds[i].data, n);
  return n;
}

/* ---- for the executor: the runtime's entry points ---- */

void fuzz_runtime_prepare(void) { fuzz_prepare(); }

struct execution {
  const struct fuzz_program* program;
  FILE* trace;
};

static void ExecuteProgram(void* p) {
  const struct execution* e = p;
  fuzz_execute(e->program, e->trace);
}

int fuzz_runtime_run(const struct fuzz_program* program, FILE* trace) {
  struct execution e = {program, trace};
  return fuzz_run(ExecuteProgram, &e);
}

const uint64_t* fuzz_runtime_area(void) { return fuzz_area; }

const uint64_t* fuzz_runtime_section_area(void) { return fuzz_section_area; }

int fuzz_runtime_last_pid(void) { return fuzz_last_pid; }
