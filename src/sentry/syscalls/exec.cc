// execve(2), execveat(2): fs/exec.c's do_execveat_common and
// fs/binfmt_script.c, for programs in the sentry's tree.
//
// A host program the guest names by a host path runs as the guest asked:
// the host makes the call. A program the host cannot reach from the
// guest's arguments (a file of a mount of the sentry's, a host file reached
// through one of its symlinks) is checked here as Linux's open_exec checks
// it; a #! line is read here as binfmt_script reads it (so the interpreter
// gets the path the guest gave, and runs from wherever it lives); and what
// is left to run, an executable of the sentry's tree (which the host runs
// from a struct file of its memfd: its binary formats, its mappings, its
// ETXTBSY) or a host file, goes to the exec tracer with the argv Linux
// would build (ExecPlan).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "sentry/proc_files.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"

namespace ukcov::sentry::syscalls {
namespace {

constexpr size_t kBinprmBufSize = 256;   // BINPRM_BUF_SIZE: what a binary format sees of the file
constexpr int kMaxRewrites = 5;          // exec_binprm: #! lines followed before ELOOP
constexpr size_t kMaxArgStrings = 1u << 20;  // far past any stack limit's E2BIG

// The exec bookkeeping every exec the host runs needs (see Supervisor): the
// address space the thread has now, and the thread.
void NoteExec(Syscall& sc) {
  Process& process = *sc.task.process;
  // The process's address space, held open: it dies with a successful exec
  // (reads then return 0), and lives on after a failed one.
  UniqueFd mm = OpenProc(sc.task.tid, "mem", O_RDONLY | O_CLOEXEC);
  std::lock_guard lock(process.exec_mu);
  process.exec_mm = std::move(mm);
  process.exec_tid.store(sc.task.tid, std::memory_order_release);
}

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The program a path leads to, checked as do_open_execat checks it.
struct Program {
  Mount* mount = nullptr;  // null: a host file
  InodeRef inode;
  std::string host_path;
  std::string name;  // its dentry's name
  InodeRef dir;      // and directory (none: an fd's file)
};

Result<Program> FindProgram(Kernel& kernel, Syscall& sc, const Credentials& creds, int dirfd, const std::string& path,
                         unsigned resolve_flags, bool* host_as_given) {
  Result<Location> loc = kernel.vfs().Resolve(kernel, sc.task, creds, dirfd, path, resolve_flags | kMustExist);
  if (!loc) return Errno{loc.error()};
  Program program;
  if (loc->on_host()) {
    *host_as_given = !loc->rerouted;
    program.name = Basename(loc->host_path);
    program.host_path = std::move(loc->host_path);  // moved: vfs.cc's kHeapPath
    return program;
  }
  *host_as_given = false;
  InodeRef& inode = loc->inode;
  if (!inode) return Errno{ENOENT};
  // may_open: a symlink (AT_SYMLINK_NOFOLLOW) is ELOOP; anything but a
  // regular file, EACCES; then the execute permission.
  if (inode->is_symlink()) return Errno{ELOOP};
  if (loc->trailing_slash && !inode->is_dir()) return Errno{ENOTDIR};
  if (!inode->is_reg()) return Errno{EACCES};
  {
    std::lock_guard lock(inode->mu);
    if (int e = Permission(*inode, creds, kMayExec)) return Errno{e};
  }
  program.mount = loc->mount;
  program.inode = inode;
  program.name = loc->name;
  program.dir = loc->parent;
  if (program.name.empty()) {  // an fd's file: its dentry's name
    std::lock_guard lock(inode->mu);
    program.name = inode->name;
  }
  return program;
}

// The first bytes of a program, as a binary format sees them (zero-padded).
Result<std::string> ReadHeader(const Program& program) {
  char buf[kBinprmBufSize] = {0};
  if (program.mount != nullptr) {
    std::lock_guard lock(program.inode->mu);
    Result<size_t> n = program.mount->fs->ReadExecHeader(*program.inode, buf, sizeof buf);
    if (!n) return Errno{n.error()};
  } else {
    // A host file: read as the sentry (an executable need not be readable;
    // the host checks what the guest may do when it runs the exec).
    UniqueFd fd(open(program.host_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd) (void)!pread(fd.get(), buf, sizeof buf, 0);
  }
  return std::string(buf, sizeof buf);
}

bool SpaceTab(char c) { return c == ' ' || c == '\t'; }

// binfmt_script's parse of a #! line: the interpreter and its optional
// argument, or ENOEXEC.
Result<void> ParseShebang(const std::string& buf, std::string* name, std::string* arg, bool* has_arg) {
  const char* b = buf.data();
  const char* buf_end = b + buf.size() - 1;
  // Both look at `last` too.
  auto next_non_spacetab = [](const char* first, const char* last) -> const char* {
    for (; first <= last; first++)
      if (!SpaceTab(*first)) return first;
    return nullptr;
  };
  auto next_terminator = [](const char* first, const char* last) -> const char* {
    for (; first <= last; first++)
      if (SpaceTab(*first) || *first == '\0') return first;
    return nullptr;
  };
  const char* i_end = static_cast<const char*>(std::memchr(b, '\n', buf.size()));
  if (!i_end) {
    i_end = next_non_spacetab(b + 2, buf_end);
    if (!i_end) return Errno{ENOEXEC};  // all spaces and tabs
    // No later space, tab or NUL: the interpreter's name may be cut off.
    if (!next_terminator(i_end, buf_end)) return Errno{ENOEXEC};
    i_end = buf_end;
  }
  while (i_end > b + 2 && SpaceTab(i_end[-1])) i_end--;
  const char* i_name = next_non_spacetab(b + 2, i_end);
  if (!i_name || i_name == i_end) return Errno{ENOEXEC};
  const char* i_sep = next_terminator(i_name, i_end);
  const char* i_arg = nullptr;
  if (i_sep && *i_sep != '\0') i_arg = next_non_spacetab(i_sep, i_end);
  // The name ends at the separator, the argument at the line's end, and
  // either at a NUL within.
  const char* name_end = i_arg ? i_sep : i_end;
  *name = std::string(i_name, static_cast<size_t>(name_end - i_name));
  name->resize(std::strlen(name->c_str()));
  *has_arg = i_arg != nullptr;
  if (i_arg) {
    *arg = std::string(i_arg, static_cast<size_t>(i_end - i_arg));
    arg->resize(std::strlen(arg->c_str()));
  }
  return {};
}

}  // namespace

Answer Execve(Kernel& kernel, Syscall& sc) {
  // The host runs the execve the exec tracer made the thread call; and, in
  // the mode "served", every execve: every mount of the sentry's is the
  // host's to walk and to read (FUSE), so the host finds and runs the
  // program itself, a script's interpreter included, with Linux's binfmts.
  if (sc.task.injected.exchange(false, std::memory_order_acq_rel) ||
      kernel.interception() == Interception::kServed) {
    NoteExec(sc);
    return Answer::Continue();
  }
  const bool at = sc.nr() == SYS_execveat;
  const int dirfd = at ? sc.fd_arg(0) : AT_FDCWD;
  const uint64_t path_address = sc.arg(at ? 1 : 0);
  const uint64_t argv_address = sc.arg(at ? 2 : 1);
  const uint64_t envp_address = sc.arg(at ? 3 : 2);
  const uint64_t flags = at ? sc.arg(4) : 0;
  // getname_uflags, then do_open_execat's flag check.
  Result<std::string> path = ReadPath(sc, path_address);
  if (!path) return Answer::Error(path.error());
  if (path->empty() && !(flags & AT_EMPTY_PATH)) return Answer::Error(ENOENT);
  if (flags & ~static_cast<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Answer::Error(EINVAL);

  auto creds = kernel.CredentialsOf(sc.task);
  unsigned resolve_flags = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : kFollowLast;
  if (flags & AT_EMPTY_PATH) resolve_flags |= kAllowEmpty;
  bool host_as_given = false;
  Result<Program> program = FindProgram(kernel, sc, *creds, dirfd, *path, resolve_flags, &host_as_given);
  if (!program) return Answer::Error(program.error());
  if (host_as_given) {  // nothing of ours: the host runs the guest's own call
    NoteExec(sc);
    return Answer::Continue();
  }

  // bprm->filename: what a script's interpreter is given, and the task's
  // name.
  const bool fd_relative = dirfd != AT_FDCWD && (path->empty() || (*path)[0] != '/');
  std::string filename = *path;
  if (fd_relative) filename = "/dev/fd/" + std::to_string(dirfd) + (path->empty() ? "" : "/" + *path);
  const bool inaccessible = fd_relative && ProcFdCloseOnExec(sc.task.tid, dirfd);

  ExecPlan plan;
  plan.argv = argv_address;
  plan.envp = envp_address;
  plan.empty_string = path_address + path->size();
  // argv as binfmt_script rewrites it: new strings in front of the guest's
  // own pointers.
  std::vector<uint64_t> rest;
  bool argv_read = false;
  std::string interp = filename;  // bprm->interp
  for (int rewrites = 0;; rewrites++) {
    if (program->mount != nullptr) {
      std::lock_guard lock(program->inode->mu);
      if (int e = program->mount->fs->DenyWriteAccess(*program->inode)) return Answer::Error(e);
    }
    Result<std::string> header = ReadHeader(*program);
    if (!header) return Answer::Error(header.error());
    if ((*header)[0] != '#' || (*header)[1] != '!') break;  // for the host's binary formats
    if (rewrites == kMaxRewrites) return Answer::Error(ELOOP);
    if (inaccessible) return Answer::Error(ENOENT);
    std::string i_name, i_arg;
    bool has_arg = false;
    if (Result<void> r = ParseShebang(*header, &i_name, &i_arg, &has_arg); !r) return Answer::Error(r.error());
    if (!argv_read) {
      // The guest's argv, pointers only: its strings are copied by the
      // host's exec (with its EFAULT and E2BIG).
      for (uint64_t p = argv_address; argv_address != 0; p += 8) {
        uint64_t s = 0;
        if (!sc.memory.Read(p, &s, sizeof s)) return Answer::Error(EFAULT);
        if (s == 0) break;
        if (rest.size() == kMaxArgStrings) return Answer::Error(E2BIG);
        rest.push_back(s);
      }
      if (rest.empty()) plan.argv_head.push_back("");  // an empty argv is [""] (Linux 5.18)
      argv_read = true;
    }
    // remove_arg_zero, then the script's path, the argument, the interpreter.
    if (!plan.argv_head.empty())
      plan.argv_head.erase(plan.argv_head.begin());
    else if (!rest.empty())
      rest.erase(rest.begin());
    std::vector<std::string> head{i_name};
    if (has_arg) head.push_back(i_arg);
    head.push_back(interp);
    plan.argv_head.insert(plan.argv_head.begin(), head.begin(), head.end());
    interp = i_name;
    plan.replace_argv = true;
    Result<Program> next = FindProgram(kernel, sc, *creds, AT_FDCWD, i_name, kFollowLast, &host_as_given);
    if (!next) return Answer::Error(next.error());
    program = std::move(next);
  }
  plan.argv_rest = std::move(rest);
  plan.comm = Basename(filename);
  plan.empty_path = path->empty();
  plan.comm_dentry = program->name;
  if (program->mount != nullptr) {
    Result<UniqueFd> file = program->mount->fs->OpenExec(program->inode);
    if (!file) return Answer::Error(file.error());
    plan.program = std::move(file.value());
    plan.replaced = [process = sc.task.process,
                     exe = Process::Exe{program->mount, program->inode, program->dir, program->name}] {
      std::lock_guard lock(process->exe_mu);
      process->exe = exe;
    };
  } else {
    plan.host_path = std::move(program->host_path);
  }
  kernel.exec().Exec(sc, std::move(plan));
  return Answer::Deferred();
}

}  // namespace ukcov::sentry::syscalls
