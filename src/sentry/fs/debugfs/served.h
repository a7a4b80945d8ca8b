// debugfs served to the host's VFS over FUSE, in the interception mode
// "served" (docs/sentry.md): the guest's /sys/kernel/debug is a FUSE mount
// in its own mount namespace, so the host walks paths, numbers and passes
// fds and checks permissions (default_permissions) itself, and sends the
// sentry only what a filesystem and its driver do: lookups, attributes, the
// directory's entries, and the kcov device's open, release, read, write,
// fsync and ioctl. The inodes are the sentry's debugfs's (one tree for
// both modes); a FUSE node number is its inode number. Instrumented.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sentry/kernel.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {
class KcovDevice;
}

namespace ukcov::sentry::debugfs {

class Filesystem;

class Served {
 public:
  Served(Filesystem& fs, KcovDevice& kcov) : fs_(fs), kcov_(kcov) {}

  Result<struct stat> Lookup(uint64_t parent, const std::string& name);
  Result<struct stat> Getattr(uint64_t node);
  // simple_setattr: `to_set` is FUSE_SET_ATTR_*; the host has made
  // setattr_prepare's checks (default_permissions).
  Result<struct stat> Setattr(uint64_t node, const struct stat& attr, int to_set);
  struct Entry {
    std::string name;
    struct stat attr;
  };
  // ".", ".." and the directory's entries, in getdents order.
  Result<std::vector<Entry>> List(uint64_t node);
  // The open of a regular file: kcov_open, a new instance. Its handle (the
  // FUSE file handle).
  Result<uint64_t> Open(TaskState& task, uint64_t node, int flags);
  // The last reference to the open file description is gone.
  void Release(uint64_t handle);
  // read(2)/write(2) of the device (no read or write operation): the errno.
  int ReadWrite(uint64_t handle, bool reading);
  // kcov_ioctl, for the calling task.
  Answer Ioctl(Kernel& kernel, Syscall& sc, uint64_t handle, unsigned cmd, uint64_t arg);
  void Statfs(struct statvfs* out);

 private:
  InodeRef Node(uint64_t node);
  struct stat Attr(const InodeRef& inode);

  Filesystem& fs_;
  KcovDevice& kcov_;
};

}  // namespace ukcov::sentry::debugfs
