#include "tools/fuzz_sandbox.h"

#include "fuzz/protocol.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace ukcov::tools {
namespace {

// <linux/mount.h>'s, which does not mix with glibc's <sys/mount.h>.
struct MountAttr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
constexpr uint64_t kMountAttrReadOnly = 0x1;
constexpr unsigned kAtRecursive = 0x8000;

// The child's steps, in order; the failing one is reported by number.
constexpr const char* kSteps[] = {
    "prctl(PR_SET_PDEATHSIG)",
    "make the mounts private",
    "make the host's filesystems read-only (mount_setattr)",
    "open the binaries' directories under /tmp, then mount a tmpfs on /tmp",
    "bind the binaries' directories under /tmp back into it",
    "mount a tmpfs on /dev/shm",
    "mount /proc for the pid namespace",
    "mkdir /tmp/ukcov-fuzz",
    "make the sandbox's mark in /tmp",
    "fork the sentry",
    "move the fds into place",
    "exec the sentry",
};

// In the child: no allocation from here on (the parent may hold malloc's
// lock in another thread).
[[noreturn]] void Fail(int report, int step) {
  int word[2] = {step, errno};
  (void)!write(report, word, sizeof word);
  _exit(127);
}

// The sentry's side: its fds in place, then the exec.
[[noreturn]] void Sentry(const SandboxSpec& spec, char* const* argv, char* const* envp, int report, int step) {
  // Each fd first above every target, so that no move overwrites another's
  // source (and closing the copies closes no target).
  int moved[16];
  size_t n = spec.fds.size() < 16 ? spec.fds.size() : 16;
  int above = 3;
  for (size_t i = 0; i < n; i++)
    if (spec.fds[i].second >= above) above = spec.fds[i].second + 1;
  for (size_t i = 0; i < n; i++)
    if ((moved[i] = fcntl(spec.fds[i].first, F_DUPFD, above)) < 0) Fail(report, step);
  for (size_t i = 0; i < n; i++)
    if (dup2(moved[i], spec.fds[i].second) < 0) Fail(report, step);
  if (spec.stdout_fd >= 0 && dup2(spec.stdout_fd, 1) < 0) Fail(report, step);
  if (spec.stderr_fd >= 0 && dup2(spec.stderr_fd, 2) < 0) Fail(report, step);
  for (size_t i = 0; i < n; i++) close(moved[i]);
  step++;
  execve(argv[0], argv, envp);
  Fail(report, step);
}

// A host directory the sandbox's fresh /tmp would hide (the sentry's or the
// guest's binary lives there: a build tree under /tmp), bound back into it
// at the same path, read-only, so that the binaries run and their paths (in
// /proc/PID/exe and maps, for a sanitizer's report) stay true.
struct KeptDir {
  std::vector<std::string> prefixes;  // "/tmp/a", "/tmp/a/b", ...: made first; the last is the directory
};

// The namespace's pid 1: the mounts, then the sentry as its child; reports
// the sentry's wait status on `status` when it ends.
[[noreturn]] void Init(const SandboxSpec& spec, const std::vector<KeptDir>& kept, char* const* argv,
                       char* const* envp, int report, int status) {
  int step = 0;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(report, step);
  step++;
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) Fail(report, step);
  step++;
  MountAttr attr{kMountAttrReadOnly, 0, 0, 0};
  if (syscall(SYS_mount_setattr, AT_FDCWD, "/", kAtRecursive, &attr, sizeof attr) != 0) Fail(report, step);
  step++;
  // Opened here, in this namespace (a bind mount's source must be in it),
  // before the fresh /tmp covers them.
  int kept_fds[4];
  size_t nkept = kept.size() < 4 ? kept.size() : 4;
  for (size_t i = 0; i < nkept; i++)
    if ((kept_fds[i] = open(kept[i].prefixes.back().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
      Fail(report, step);
  // Bounded: a program can write here (a symlink to /tmp, "../..").
  if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m") != 0) Fail(report, step);
  step++;
  // Through the host's /proc, still mounted: the fds are this process's.
  for (size_t i = 0; i < nkept; i++) {
    for (const std::string& prefix : kept[i].prefixes)
      if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) Fail(report, step);
    const char* dir = kept[i].prefixes.back().c_str();
    char source[32];
    snprintf(source, sizeof source, "/proc/self/fd/%d", kept_fds[i]);
    if (mount(source, dir, nullptr, MS_BIND, nullptr) != 0) Fail(report, step);
    if (mount(nullptr, dir, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) Fail(report, step);
    close(kept_fds[i]);
  }
  step++;
  if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m") != 0) Fail(report, step);
  step++;
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) Fail(report, step);
  step++;
  if (mkdir(kFuzzMount, 0755) != 0) Fail(report, step);
  step++;
  int mark = open(UKCOV_FUZZ_SANDBOX_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
  if (mark < 0) Fail(report, step);
  close(mark);
  step++;
  pid_t sentry = fork();
  if (sentry < 0) Fail(report, step);
  step++;
  if (sentry == 0) {
    close(status);
    Sentry(spec, argv, envp, report, step);
  }
  // Holding none of the run's fds: their ends close when the sentry's do.
  close(report);
  if (status != 3 && (dup2(status, 3) < 0 || close(status) != 0)) _exit(127);
  syscall(SYS_close_range, 4, ~0u, 0);
  for (int fd = 0; fd < 3; fd++) close(fd);
  int wait_status = 0;
  while (waitpid(sentry, &wait_status, 0) < 0)
    if (errno != EINTR) _exit(127);
  (void)!write(3, &wait_status, sizeof wait_status);
  _exit(0);
}

}  // namespace

Result<Sandbox> SpawnSandbox(const SandboxSpec& spec, std::string* error) {
  std::vector<std::string> args = {spec.sentry, "run", "--tmpfs",
                                   std::string(kFuzzMount) + ":" + UKCOV_FUZZ_MOUNT_OPTIONS};
  args.insert(args.end(), spec.sentry_options.begin(), spec.sentry_options.end());
  args.push_back("--");
  args.insert(args.end(), spec.guest.begin(), spec.guest.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; *e != nullptr; e++) {
    std::string entry = *e;
    bool changed = false;
    for (const std::string& change : spec.environment) changed = changed || name_of(entry) == name_of(change);
    if (!changed) env_strings.push_back(entry);
  }
  for (const std::string& change : spec.environment)
    if (change.find('=') != std::string::npos) env_strings.push_back(change);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  // `report`: a failed step, or EOF once the sentry is exec'ed (close on
  // exec); `status`: the sentry's wait status, from the init.
  int report_pipe[2], status_pipe[2];
  if (pipe2(report_pipe, O_CLOEXEC) != 0 || pipe2(status_pipe, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return Errno{errno};
  }
  UniqueFd report_read(report_pipe[0]), report_write(report_pipe[1]);
  UniqueFd status_read(status_pipe[0]), status_write(status_pipe[1]);
  // The binaries' directories under /tmp, which the sandbox's own /tmp
  // would hide.
  std::vector<KeptDir> kept;
  for (const std::string* binary : {&spec.sentry, spec.guest.empty() ? nullptr : &spec.guest[0]}) {
    if (binary == nullptr) continue;
    char real[PATH_MAX];
    if (realpath(binary->c_str(), real) == nullptr) continue;  // exec will say
    std::string dir = real;
    dir.erase(dir.rfind('/'));
    if (dir.rfind("/tmp/", 0) != 0) continue;
    bool known = false;
    for (const KeptDir& k : kept) known = known || k.prefixes.back() == dir;
    if (known) continue;
    KeptDir k;
    for (size_t at = dir.find('/', 5); ; at = dir.find('/', at + 1)) {
      k.prefixes.push_back(dir.substr(0, at));
      if (at == std::string::npos) break;
    }
    kept.push_back(std::move(k));
  }
  // clone, not unshare: the child must be the new pid namespace's pid 1.
  // A network namespace of its own: programs make AF_UNIX sockets, whose
  // abstract names would otherwise be the host's.
  long pid =
      syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    *error = std::string("clone(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET): ") + std::strerror(errno) +
             (errno == EPERM ? " (ukcov fuzz needs root: CAP_SYS_ADMIN for the namespaces)" : "");
    return Errno{errno};
  }
  if (pid == 0) {
    close(report_read.get());
    close(status_read.get());
    Init(spec, kept, argv.data(), envp.data(), report_write.get(), status_write.get());
  }
  report_write.reset();
  status_write.reset();
  Sandbox sandbox;
  sandbox.pid = static_cast<pid_t>(pid);
  sandbox.report = std::move(status_read);
  int word[2];
  ssize_t got;
  do got = read(report_read.get(), word, sizeof word);
  while (got < 0 && errno == EINTR);
  if (got == sizeof word) {
    kill(sandbox.pid, SIGKILL);
    while (waitpid(sandbox.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    *error = std::string(kSteps[word[0]]) + ": " + std::strerror(word[1]);
    return Errno{word[1]};
  }
  return sandbox;
}

int WaitSandbox(Sandbox& sandbox) {
  int init_status = 0;
  while (waitpid(sandbox.pid, &init_status, 0) < 0 && errno == EINTR) {
  }
  sandbox.pid = -1;
  int status;
  ssize_t got;
  do got = read(sandbox.report.get(), &status, sizeof status);
  while (got < 0 && errno == EINTR);
  sandbox.report.reset();
  return got == sizeof status ? status : init_status;
}

namespace {
constexpr const char* kSanitizerOptions[] = {"ASAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS", "UBSAN_OPTIONS"};
constexpr const char* kSavedPrefix = "UKCOV_FUZZ_SENTRY_";
}  // namespace

std::vector<std::string> SentrySanitizerEnvironment() {
  std::vector<std::string> changes;
  for (const char* name : kSanitizerOptions) {
    const char* saved = std::getenv((std::string(kSavedPrefix) + name).c_str());
    const char* own = std::getenv(name);
    std::string value = saved != nullptr ? saved : own != nullptr ? own : "";
    if (std::string(name) == "ASAN_OPTIONS") value += std::string(value.empty() ? "" : ":") + "abort_on_error=1";
    changes.push_back(value.empty() ? std::string(name) : std::string(name) + "=" + value);
  }
  return changes;
}

std::vector<std::string> AflSanitizerEnvironment() {
  std::vector<std::string> changes;
  for (const char* name : kSanitizerOptions) {
    const char* own = std::getenv(name);
    if (own == nullptr) continue;
    changes.push_back(std::string(kSavedPrefix) + name + "=" + own);
    std::string name_s = name;
    std::string extra = name_s == "ASAN_OPTIONS"   ? ":abort_on_error=1:symbolize=0"
                        : name_s == "MSAN_OPTIONS" ? ":exit_code=86:symbolize=0"
                        : name_s == "LSAN_OPTIONS" ? ":symbolize=0"
                                                   : "";
    changes.push_back(name_s + "=" + own + extra);
  }
  return changes;
}

}  // namespace ukcov::tools
