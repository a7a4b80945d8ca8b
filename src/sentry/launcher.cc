#include "sentry/launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/sysmacros.h>

extern char** environ;

namespace ukcov::sentry {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// One byte of data carrying one fd as SCM_RIGHTS: the listener hand-over.
struct FdMessage {
  char byte = 'L';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  FdMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  FdMessage(const FdMessage&) = delete;
};

// Child side; async-signal-safe (no allocation).
bool SendFd(int sock, int fd) {
  FdMessage m;
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &m.msg, MSG_NOSIGNAL) == 1;
}

int ReceiveFd(int sock) {
  FdMessage m;
  ssize_t n;
  do n = recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n != 1) return -1;
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

// What the child reports before its filter exists: a stage and an errno.
struct ChildFailure {
  int stage;  // 1: filter load; 3: the served debugfs's mount; 4: a served tmpfs's
  int error;
};

// debugfs's mount, served over FUSE from `fuse_device` (the sentry reads
// it): the host's VFS makes the permission checks (default_permissions),
// for every user (allow_other). Child side: no allocation, and no access
// to the mount (every request waits for FUSE_INIT, which the sentry
// answers once it has the listener).
int MountServedDebugfs(int fuse_device) {
  char options[128] = "fd=";
  char digits[16];
  int n = 0;
  for (unsigned v = static_cast<unsigned>(fuse_device); n == 0 || v != 0; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  size_t at = std::strlen(options);
  while (n > 0) options[at++] = digits[--n];
  options[at] = 0;
  std::strcat(options, ",rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other");
  if (mount("debugfs", "/sys/kernel/debug", "fuse.ukcov", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME, options) != 0)
    return errno;
  return 0;
}

// The device of the FUSE mount of ours at `mount_point` in `pid`'s mount
// namespace, from its mountinfo (the mount itself answers nothing before
// FUSE_INIT). 0: none.
dev_t ServedDev(pid_t pid, const std::string& mount_point) {
  std::ifstream info("/proc/" + std::to_string(pid) + "/mountinfo");
  std::string line;
  dev_t dev = 0;
  while (std::getline(info, line)) {
    // ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE ...
    std::istringstream fields(line);
    std::string id, parent, numbers, root, point;
    fields >> id >> parent >> numbers >> root >> point;
    // The kernel writes a space, tab, newline or backslash of a path as
    // \ooo (show_mountinfo's mangle).
    std::string unescaped;
    for (size_t i = 0; i < point.size(); i++) {
      if (point[i] == '\\' && i + 3 < point.size() && std::isdigit(static_cast<unsigned char>(point[i + 1]))) {
        unescaped.push_back(static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8)));
        i += 3;
      } else {
        unescaped.push_back(point[i]);
      }
    }
    point = unescaped;
    if (point != mount_point || line.find(" - fuse.ukcov ") == std::string::npos) continue;
    unsigned major = 0, minor = 0;
    if (std::sscanf(numbers.c_str(), "%u:%u", &major, &minor) == 2) dev = makedev(major, minor);
  }
  return dev;
}

}  // namespace

Result<std::string> ResolveProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    if (access(program.c_str(), F_OK) != 0) return Errno{ENOENT};
    if (!IsExecutableFile(program)) return Errno{EACCES};
    return program;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  bool found_unexecutable = false;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (IsExecutableFile(candidate)) return candidate;
    if (access(candidate.c_str(), F_OK) == 0) found_unexecutable = true;
  }
  return Errno{found_unexecutable ? EACCES : ENOENT};
}

Result<Launch> Spawn(const std::string& path, const std::vector<std::string>& argv, const Filter& filter,
                     const rlimit& fd_limit, const std::vector<std::string>& hidden, int fuse_device,
                     const std::vector<ServedMount>& served_mounts, std::string* error) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return *error = "socketpair", Errno{errno};
  UniqueFd parent_sock(sv[0]), child_sock(sv[1]);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return *error = "pipe", Errno{errno};
  UniqueFd status_read(pipefd[0]), status_write(pipefd[1]);

  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t supervisor = getpid();
  // A served tmpfs's mount options, made before the fork: the FUSE device,
  // and the host's permission checks for every user as debugfs's. Unlike
  // debugfs's, the mount allows set-user-ID programs, devices and exec, as
  // a tmpfs does.
  std::vector<std::string> served_options;
  for (const ServedMount& m : served_mounts)
    served_options.push_back("fd=" + std::to_string(m.fuse_device) +
                             ",rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other");

  pid_t pid = fork();
  if (pid < 0) return *error = "fork", Errno{errno};
  if (pid == 0) {
    // The guest dies with its supervisor: it must never run unsupervised.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != supervisor) _exit(127);
    setrlimit(RLIMIT_NOFILE, &fd_limit);
    // Best effort: without the privilege (an unprivileged user) the
    // directories stay as they are (docs/sentry.md, "Security model").
    const bool own_namespace = (!hidden.empty() || fuse_device >= 0 || !served_mounts.empty()) &&
                               unshare(CLONE_NEWNS) == 0 &&
                               mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    if (own_namespace) {
      for (const std::string& dir : hidden)
        mount("ukcov-hidden", dir.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555");
    }
    if (fuse_device >= 0) {
      int e = own_namespace ? MountServedDebugfs(fuse_device) : EPERM;
      if (e != 0) {
        ChildFailure f{3, e};
        (void)!write(status_write.get(), &f, sizeof f);
        _exit(127);
      }
      close(fuse_device);
    }
    for (size_t i = 0; i < served_mounts.size(); i++) {
      int e = EPERM;
      if (own_namespace)
        e = mount("tmpfs", served_mounts[i].point.c_str(), "fuse.ukcov", MS_RELATIME, served_options[i].c_str()) == 0
                ? 0
                : errno;
      if (e != 0) {
        ChildFailure f{4, e};
        (void)!write(status_write.get(), &f, sizeof f);
        _exit(127);
      }
      close(served_mounts[i].fuse_device);
    }
    int listener = filter.LoadWithListener();
    if (listener < 0) {
      ChildFailure f{1, -listener};
      (void)!write(status_write.get(), &f, sizeof f);
      _exit(127);
    }
    // From here every trapped syscall waits for the supervisor, which
    // serves as soon as it has the listener.
    if (!SendFd(child_sock.get(), listener)) _exit(127);
    execve(path.c_str(), cargv.data(), environ);
    ChildFailure f{2, errno};
    (void)!write(status_write.get(), &f, sizeof f);
    _exit(127);
  }
  child_sock.reset();
  status_write.reset();

  int listener = ReceiveFd(parent_sock.get());
  if (listener < 0) {
    ChildFailure f{};
    const bool reported = read(status_read.get(), &f, sizeof f) == sizeof f;
    if (reported && f.stage == 4) {
      *error = std::string("cannot mount a served tmpfs in the guest's mount namespace: ") + std::strerror(f.error) +
               " (--intercept all needs no mount)";
    } else if (reported && f.stage == 3) {
      *error = std::string("cannot mount the served debugfs at /sys/kernel/debug in the guest's mount namespace: ") +
               std::strerror(f.error) + " (--intercept all needs no mount)";
    } else if (reported && f.stage == 1) {
      *error = std::string("cannot install the seccomp user-notification filter: ") + std::strerror(f.error);
      if (f.error == EINVAL || f.error == ENOSYS)
        *error += " (this kernel lacks SECCOMP_FILTER_FLAG_NEW_LISTENER: Linux 5.0 or later is needed)";
      else if (f.error == EBUSY)
        *error += " (this process already runs under a seccomp listener, such as another ukcov run;"
                  " the kernel allows one per process)";
      else if (f.error == EACCES || f.error == EPERM)
        *error += " (seccomp is not permitted here)";
    } else {
      *error = "the guest died before handing over its seccomp listener";
    }
    waitpid(pid, nullptr, 0);
    return Errno{f.error != 0 ? f.error : ECHILD};
  }
  Launch launch;
  launch.pid = pid;
  launch.listener.reset(listener);
  launch.exec_status = std::move(status_read);
  if (fuse_device >= 0) {
    launch.served_dev = ServedDev(pid, "/sys/kernel/debug");
    if (launch.served_dev == 0) {
      *error = "the served debugfs is not in the guest's mountinfo";
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return Errno{EIO};
    }
  }
  for (const ServedMount& m : served_mounts) {
    launch.served_mount_devs.push_back(ServedDev(pid, m.point));
    if (launch.served_mount_devs.back() == 0) {
      *error = "the served tmpfs at " + m.point + " is not in the guest's mountinfo";
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return Errno{EIO};
    }
  }
  return launch;
}

}  // namespace ukcov::sentry
