// One open file description of /sys/kernel/debug/kcov: a kcov instance
// (Linux's kcov_fops). Instrumented.
#pragma once

#include <sys/types.h>

#include "sentry/vfs/file.h"
#include "ukcov/ukcov.hpp"

namespace ukcov::sentry {

class KcovFile final : public File {
 public:
  KcovFile(ukcov::Instance instance, int access_mode, ino_t ino, int watch, InodeRef inode, uint64_t handle = 0)
      : instance(std::move(instance)), access_mode(access_mode), ino(ino), watch(watch), inode(std::move(inode)),
        handle(handle) {}

  // debugfs's kcov inode.
  InodeRef OpenInode() const override { return inode; }

  // No read or write operation, opened non-seekable (nonseekable_open).
  Answer ReadWrite(Kernel& kernel, Syscall& sc, const IoArgs& io) override;
  // kcov_ioctl: the engine's.
  Answer Ioctl(Kernel& kernel, Syscall& sc, unsigned cmd, uint64_t arg) override;
  // kcov_mmap's checks; then the host maps the very memfd the engine writes
  // (a served file: the exec tracer has the thread map a struct file of it).
  Answer Mmap(Kernel& kernel, Syscall& sc, const MmapArgs& args) override;
  // Not a shmem file: no seals (the memfd behind it would take them).
  Answer Fcntl(Kernel& kernel, Syscall& sc, unsigned cmd, uint64_t arg) override;

  ukcov::Instance instance;
  const int access_mode;  // O_RDONLY / O_WRONLY / O_RDWR, as opened
  const ino_t ino;        // of the memfd: how a guest fd (or mapping) is recognised
  int watch;              // the inotify watch that reports its release (KcovDevice's mu_)
  const InodeRef inode;
  // Served (interception mode "served"): the FUSE file handle, 0 otherwise.
  // Its release is FUSE's RELEASE once no mapping is left (a mapping holds
  // a struct file of the memfd instead, see Mmap). Guarded by KcovDevice's mu_.
  const uint64_t handle;
  bool released = false;
  int mappings = 0;
};

}  // namespace ukcov::sentry
