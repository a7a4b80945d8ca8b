// /sys/kernel/debug/kcov: the device file, its open file descriptions, and
// their release. Instrumented.
//
// Each open makes a libukcov instance, whose area is a memfd, and gives the
// guest a struct file of its own on that memfd (a reopen through
// /proc/self/fd), installed with SECCOMP_ADDFD. The host kernel then does fd
// numbering, dup, fork, SCM_RIGHTS and close-on-exec exactly as Linux; the
// guest's mmap maps the very pages the engine writes; and an inotify
// IN_CLOSE on the memfd's inode says when that struct file's last
// reference (fd or mapping, in any process) is gone: Linux's kcov_close.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "base/unique_fd.h"
#include "sentry/host_index.h"
#include "sentry/fs/kcov/kcov_file.h"
#include "ukcov/kcov.h"
#include "ukcov/result.hpp"
#include "ukcov/ukcov.hpp"

namespace ukcov::sentry {

struct TaskState;

class KcovDevice {
 public:
  explicit KcovDevice(ukcov::Engine& engine);

  // open(2) of the device (debugfs's `inode`) by `task` with `flags`: the
  // struct file to install.
  Result<UniqueFd> Open(TaskState& task, int flags, InodeRef inode);
  // The open file description a guest fd's inode belongs to, if any.
  std::shared_ptr<KcovFile> Find(dev_t dev, ino_t ino);
  // Whether a guest ever opened a kcov file. Sticky, not a count: the
  // host reports a release when it likes, and a call's coverage must not
  // depend on whether the last close was seen yet (docs/coverage.md).
  bool AnyOpen() const { return ever_opened_.load(std::memory_order_acquire); }

  // Served over FUSE (debugfs/served.h): an open is a FUSE file handle, its
  // release FUSE's RELEASE.
  Result<uint64_t> OpenServed(TaskState& task, int flags, InodeRef inode);
  void ReleaseServed(uint64_t handle);
  // The FUSE connection has ended with the guest's last process: every
  // served file is released (the host drops the RELEASEs it had queued).
  void ReleaseAllServed();
  std::shared_ptr<KcovFile> FindServed(uint64_t handle);
  // A struct file of `file`'s memfd for one mapping of a served file,
  // counted until the host reports its release (the mapping's end).
  Result<UniqueFd> MapServed(KcovFile& file);
  // The device of the FUSE mount, and its kcov node: a guest fd with these
  // is a served kcov file, whose handle its own ioctl tells (kWhoAmI).
  void SetServed(dev_t dev) { served_dev_.store(dev, std::memory_order_release); }
  dev_t served_dev() const { return served_dev_.load(std::memory_order_acquire); }
  // The ioctl the sentry makes on a guest's served kcov file (borrowed) to
  // learn its handle: answered only to the sentry's own threads.
  static constexpr unsigned kWhoAmI = 0x75fe;  // _IO('u', 0xfe): no data for FUSE to copy

  // Drains release events (the reaper thread polls inotify_fd()).
  int inotify_fd() const { return inotify_.get(); }
  void ReleaseClosed();

  // ioctl commands whose answer depends on whether the instance's owner is
  // still alive (the enables: EINVAL/EBUSY while it is). Linux releases a
  // task's instance in do_exit, before its exit can be reported to anyone,
  // so the supervisor processes every exit the host already reports before
  // serving these.
  static bool DependsOnExits(unsigned int cmd) {
    return cmd == UKCOV_KCOV_ENABLE || cmd == UKCOV_KCOV_REMOTE_ENABLE || cmd == UKCOV_KCOV_UNIQUE_ENABLE;
  }

 private:
  ukcov::Engine& engine_;
  UniqueFd inotify_;
  std::mutex mu_;
  dev_t memfd_dev_ = 0;  // all memfds share one device
  HostIndex<std::shared_ptr<KcovFile>> by_ino_;  // by the area memfd's host inode number; guarded by mu_
  // Both change on the host's asynchronous reports (inotify, FUSE's
  // RELEASE), so they are HostIndexes too. Guarded by mu_.
  HostIndex<ino_t> by_watch_;
  HostIndex<std::shared_ptr<KcovFile>> by_handle_;
  uint64_t next_handle_ = 1;                                           // guarded by mu_
  std::atomic<bool> ever_opened_{false};
  std::atomic<dev_t> served_dev_{0};
};

}  // namespace ukcov::sentry
