#include "sentry/fd_table.h"

#include <linux/kcmp.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/unique_fd.h"
#include "sentry/fs/debugfs/debugfs.h"
#include "sentry/fs/host/host_file.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/kernel.h"
#include "sentry/proc_files.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry {

Result<UniqueFd> BorrowFd(TaskState& task, int fd) {
  auto getfd = [fd](int pidfd) -> Result<UniqueFd> {
    UniqueFd borrowed(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0)));
    if (!borrowed) return Errno{errno};
    return borrowed;
  };
  // A thread pidfd (Linux 6.9+) names the thread's own table, also after
  // its leader exited.
  if (task.pidfd) return getfd(task.pidfd.get());
  // Without: a process pidfd names the leader's table, which is this
  // thread's only if kcmp says so (CLONE_FILES, as threads are made) and the
  // leader has not exited (its table is gone then).
  Process& process = *task.process;
  if (task.tid != process.tgid &&
      syscall(SYS_kcmp, process.tgid, task.tid, KCMP_FILES, 0, 0) != 0)
    return Errno{EOPNOTSUPP};
  return getfd(process.pidfd.get());
}

namespace {

FileRef Host() { return {HostFile::Get(), 0}; }
FileRef Bad(int error) { return {nullptr, error}; }

// Whose a host file is, by its inode: the kcov device's (a file of debugfs),
// a mount's (*in_mount: to be found there), or the host's.
FileRef Identify(Kernel& kernel, const struct stat& st, bool* in_mount) {
  *in_mount = false;
  if (st.st_dev != kernel.memfd_dev()) return Host();
  if (auto file = kernel.kcov().Find(st.st_dev, st.st_ino)) {
    FileRef ref{file, 0};
    ref.inode = file->OpenInode();
    ref.mount = kernel.vfs().MountOf(ref.inode->fs);
    return ref;
  }
  *in_mount = true;
  return {};
}

// A guest fd on the served debugfs (interception mode "served"): the kcov
// device's file (its handle, from its own ioctl) or the directory.
FileRef IdentifyServed(Kernel& kernel, const struct stat& st, UniqueFd description) {
  Mount* mount = kernel.vfs().MountOf(&kernel.debugfs());
  if (mount == nullptr) return Bad(EBADF);
  const bool path_only = fcntl(description.get(), F_GETFL) & O_PATH;
  if (S_ISREG(st.st_mode) && !path_only) {
    long handle = ioctl(description.get(), KcovDevice::kWhoAmI, 0);
    std::shared_ptr<KcovFile> file = handle > 0 ? kernel.kcov().FindServed(static_cast<uint64_t>(handle)) : nullptr;
    if (!file) return Bad(EBADF);  // released meanwhile
    FileRef ref{file, 0};
    ref.inode = file->OpenInode();
    ref.mount = mount;
    ref.description = description.get();
    ref.held = std::move(description);
    return ref;
  }
  FileRef ref;
  ref.mount = mount;
  ref.path_only = path_only;
  ref.inode = S_ISDIR(st.st_mode) ? mount->fs->root() : mount->fs->Lookup(*mount->fs->root(), "kcov");
  if (!ref.inode) return Bad(EBADF);
  ref.description = description.get();
  ref.file = mount->fs->FileOf(mount, ref.inode, std::move(description), ref.path_only);
  ref.error = 0;
  return ref;
}

// A guest fd on a served tmpfs (interception mode "served"): the host
// serves it over FUSE, and the calls trapped on it (fstatfs, mmap, the
// copies...) are the host's but for what needs the inode (fstatfs's
// answer).
FileRef IdentifyServedMount(Mount& mount, const struct stat& st, UniqueFd description) {
  InodeRef inode = mount.served_inode(st.st_ino);
  if (!inode) return Host();
  FileRef ref = Host();
  ref.mount = &mount;
  ref.inode = std::move(inode);
  ref.path_only = fcntl(description.get(), F_GETFL) & O_PATH;
  ref.description = description.get();
  ref.held = std::move(description);
  return ref;
}

}  // namespace

FileRef LookupFd(Kernel& kernel, TaskState& task, int fd, bool served_inode) {
  if (fd < 0) return Bad(EBADF);
  // With no file of the sentry's open anywhere, every valid fd is the host's
  // (a served mount's files are opened unseen: only what needs their inode
  // looks).
  if (!kernel.kcov().AnyOpen() && !kernel.vfs().AnyOpened() && !(served_inode && kernel.vfs().AnyServed()))
    return Host();
  // The guest's fd, borrowed: the same open file description, so its inode
  // says whose it is however the guest got the fd (dup, fork, SCM_RIGHTS).
  Result<UniqueFd> borrowed = BorrowFd(task, fd);
  struct stat st;
  if (!borrowed) {
    if (borrowed.error() == EBADF) return Bad(EBADF);
    // The table is out of pidfd_getfd's reach (see BorrowFd; or the guest
    // may not be ptraced by the sentry, a set-user-ID program): the inode
    // says whose the file is through /proc, the thread's own table; the
    // description itself stays out of reach.
    if (int e = StatProcFd(task.tid, fd, &st); e != 0) return Bad(e == ENOENT ? EBADF : e);
    if (st.st_dev != 0 && st.st_dev == kernel.kcov().served_dev()) return Bad(EOPNOTSUPP);  // needs the description
    bool in_mount;
    FileRef ref = Identify(kernel, st, &in_mount);
    if (!in_mount) return ref;
    InodeRef inode;
    bool path_only;
    if (kernel.vfs().FindByHostIno(st.st_ino, &inode, &path_only) == nullptr) return Host();
    return Bad(EOPNOTSUPP);
  }
  if (fstat(borrowed->get(), &st) != 0) return Bad(errno);
  if (st.st_dev != 0 && st.st_dev == kernel.kcov().served_dev())
    return IdentifyServed(kernel, st, std::move(borrowed.value()));
  if (Mount* served = kernel.vfs().ServedMountOf(st.st_dev))
    return IdentifyServedMount(*served, st, std::move(borrowed.value()));
  bool in_mount;
  FileRef ref = Identify(kernel, st, &in_mount);
  if (!in_mount) {
    if (ref.inode) {  // the kcov device's
      ref.description = borrowed->get();
      ref.held = std::move(borrowed.value());
    }
    return ref;
  }
  ref.mount = kernel.vfs().FindByHostIno(st.st_ino, &ref.inode, &ref.path_only);
  if (ref.mount == nullptr) {
    FileRef host = Host();
    host.host_memfd = true;
    return host;
  }
  {
    std::lock_guard inode_lock(ref.inode->mu);
    ref.mount->fs->SyncSize(*ref.inode);
  }
  ref.description = borrowed->get();
  ref.file = ref.mount->fs->FileOf(ref.mount, ref.inode, std::move(borrowed.value()), ref.path_only);
  ref.error = 0;
  return ref;
}

}  // namespace ukcov::sentry
