// A tmpfs file's open description, as a guest fd names it during one call
// (mm/shmem.c's shmem_file_operations and shmem_dir_operations, with
// fs/read_write.c's and fs/libfs.c's parts that tmpfs uses). Instrumented.
#pragma once

#include "base/unique_fd.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry {

struct Mount;

class TmpfsFile final : public File {
 public:
  // `description`: the guest's own struct file on the inode's memfd,
  // borrowed (its offset and status flags are the description's).
  TmpfsFile(Mount* mount, tmpfs::InodeRef inode, UniqueFd description, bool path_only)
      : mount(mount), inode(std::move(inode)), description(std::move(description)), path_only(path_only) {}

  InodeRef OpenInode() const override { return inode; }

  bool PathOnly() const override { return path_only; }
  Answer ReadWrite(Kernel& kernel, Syscall& sc, const IoArgs& io) override;
  Answer Seek(Kernel& kernel, Syscall& sc, int64_t offset, unsigned whence) override;
  Answer Fsync(Kernel& kernel, Syscall& sc) override;
  Answer Ioctl(Kernel& kernel, Syscall& sc, unsigned cmd, uint64_t arg) override;
  Answer Mmap(Kernel& kernel, Syscall& sc, const MmapArgs& args) override;
  Answer Fallocate(Kernel& kernel, Syscall& sc, int mode, int64_t offset, int64_t length) override;
  Answer Getdents(Kernel& kernel, Syscall& sc, uint64_t buffer, uint64_t count, bool legacy) override;
  Answer CopyRange(Kernel& kernel, Syscall& sc, bool out) override;
  Answer Fcntl(Kernel& kernel, Syscall& sc, unsigned cmd, uint64_t arg) override;

  tmpfs::Filesystem& fs() const { return static_cast<tmpfs::Filesystem&>(*inode->fs); }

  Mount* const mount;
  const tmpfs::InodeRef inode;
  const UniqueFd description;
  const bool path_only;
};

}  // namespace ukcov::sentry
