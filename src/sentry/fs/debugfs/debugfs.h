// debugfs: the filesystem at /sys/kernel/debug, with the files the sentry's
// drivers register in it (fs/debugfs/inode.c). Today one: kcov, the device
// (fs/kcov) a guest opens for coverage, as kernel/kcov.c registers it with
// debugfs_create_file_unsafe("kcov", 0600, NULL, ...). Instrumented.
//
// The tree is made at mount and never changes: debugfs has no mkdir, create,
// link, unlink or rename for userspace (EPERM), no extended attributes
// (EOPNOTSUPP); chmod, chown and utimes change its inodes (simple_setattr).
// A guest's open of a directory, or O_PATH open of any file, gets a struct
// file on a memfd that stands for that inode (one per inode and kind, made
// at mount), so that the host numbers, duplicates and passes it as Linux
// would, and the memfd's inode number says which inode a guest fd is. An
// open of kcov is the device's own (KcovDevice::Open).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <unordered_map>

#include "base/unique_fd.h"
#include "sentry/host_index.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/filesystem.h"

namespace ukcov::sentry {

class KcovDevice;

namespace debugfs {

// Where Linux mounts it.
inline constexpr const char* kMountPoint = "/sys/kernel/debug";

class Filesystem final : public sentry::Filesystem {
 public:
  Filesystem(dev_t dev, KcovDevice& kcov);

  void Statfs(struct statfs* out) override;  // simple_statfs
  Result<void> SetSize(Inode& inode, uint64_t size) override;  // simple_setattr
  Answer Open(Kernel& kernel, Syscall& sc, const InodeRef& inode, int flags, const Credentials& creds) override;
  bool MayHaveOpenFiles() const override { return opened_.load(std::memory_order_relaxed); }
  InodeRef FindByHostIno(ino_t host_ino, bool* path_only) override;
  std::shared_ptr<File> FileOf(Mount* mount, const InodeRef& inode, UniqueFd description, bool path_only) override;

 private:
  // The memfds that stand for an inode in a guest's struct file.
  struct Token {
    InodeRef inode;
    bool path_only;
    UniqueFd memfd;
  };
  InodeRef NewInode(mode_t mode);
  void AddToken(const InodeRef& inode, bool path_only);

  KcovDevice& kcov_;
  std::atomic<bool> opened_{false};  // a directory or O_PATH file was opened
  uint64_t next_ino_ = 1;
  HostIndex<Token> tokens_;  // by the memfd's host inode number (host_index.h)
  // by the inode's number: its tokens' host inode numbers, to open, and O_PATH
  std::unordered_map<uint64_t, ino_t> open_token_, path_token_;
};

// A guest's struct file on a debugfs directory, or an O_PATH one on any
// debugfs file (simple_dir_operations).
class File final : public sentry::File {
 public:
  File(InodeRef inode, UniqueFd description, bool path_only)
      : inode_(std::move(inode)), description_(std::move(description)), path_only_(path_only) {}

  bool PathOnly() const override { return path_only_; }
  InodeRef OpenInode() const override { return inode_; }
  Answer ReadWrite(Kernel& kernel, Syscall& sc, const IoArgs& io) override;  // EISDIR
  Answer Seek(Kernel& kernel, Syscall& sc, int64_t offset, unsigned whence) override;
  Answer Fsync(Kernel& kernel, Syscall& sc) override;  // noop_fsync
  Answer Getdents(Kernel& kernel, Syscall& sc, uint64_t buffer, uint64_t count, bool legacy) override;
  Answer Fcntl(Kernel& kernel, Syscall& sc, unsigned cmd, uint64_t arg) override;

 private:
  const InodeRef inode_;
  const UniqueFd description_;
  const bool path_only_;
};

}  // namespace debugfs
}  // namespace ukcov::sentry
