#include "sentry/fs/debugfs/served.h"

#include <fcntl.h>
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <limits.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "sentry/fs/debugfs/debugfs.h"
#include "sentry/fs/kcov/kcov_device.h"

namespace ukcov::sentry::debugfs {

InodeRef Served::Node(uint64_t node) {
  const InodeRef& root = fs_.root();
  if (node == FUSE_ROOT_ID) return root;
  std::lock_guard lock(root->mu);
  for (const auto& [_, entry] : root->entries)
    if (entry.inode->ino == node) return entry.inode;
  return nullptr;
}

struct stat Served::Attr(const InodeRef& inode) {
  struct stat st;
  std::lock_guard lock(inode->mu);
  fs_.Getattr(*inode, &st);
  return st;
}

Result<struct stat> Served::Lookup(uint64_t parent, const std::string& name) {
  InodeRef dir = Node(parent);
  if (!dir) return Errno{ENOENT};
  InodeRef found = fs_.Lookup(*dir, name);
  if (!found) return Errno{ENOENT};
  return Attr(found);
}

Result<struct stat> Served::Getattr(uint64_t node) {
  InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  return Attr(inode);
}

Result<struct stat> Served::Setattr(uint64_t node, const struct stat& attr, int to_set) {
  InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  if (to_set & FUSE_SET_ATTR_SIZE) {
    std::lock_guard lock(inode->mu);
    if (Result<void> r = fs_.SetSize(*inode, static_cast<uint64_t>(attr.st_size)); !r) return Errno{r.error()};
  }
  {
    std::lock_guard lock(inode->mu);
    const timespec now = CurrentTime();
    if (to_set & FUSE_SET_ATTR_MODE) inode->mode = (inode->mode & S_IFMT) | (attr.st_mode & 07777);
    if (to_set & FUSE_SET_ATTR_UID) inode->uid = attr.st_uid;
    if (to_set & FUSE_SET_ATTR_GID) inode->gid = attr.st_gid;
    if (to_set & FUSE_SET_ATTR_ATIME) inode->atime = attr.st_atim;
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) inode->atime = now;
    if (to_set & FUSE_SET_ATTR_MTIME) inode->mtime = attr.st_mtim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) inode->mtime = now;
    if (to_set & FUSE_SET_ATTR_CTIME) {
      inode->ctime = attr.st_ctim;
    } else if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID | FUSE_SET_ATTR_ATIME |
                         FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) {
      inode->ctime = now;  // notify_change: any change of the attributes
    }
  }
  return Attr(inode);
}

Result<std::vector<Served::Entry>> Served::List(uint64_t node) {
  InodeRef dir = Node(node);
  if (!dir) return Errno{ENOENT};
  if (!dir->is_dir()) return Errno{ENOTDIR};
  std::vector<Entry> out;
  out.push_back({".", Attr(dir)});
  out.push_back({"..", Attr(dir)});  // the root's parent is itself
  std::vector<std::pair<std::string, InodeRef>> children;
  {
    std::lock_guard lock(dir->mu);
    for (const auto& [_, entry] : dir->entries) children.emplace_back(entry.name, entry.inode);
  }
  for (auto& [name, inode] : children) out.push_back({name, Attr(inode)});
  return out;
}

Result<uint64_t> Served::Open(TaskState& task, uint64_t node, int flags) {
  InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  if (!inode->is_reg()) return uint64_t{0};  // the directory: the host's generic file
  // do_dentry_open: no debugfs file can do O_DIRECT (no FMODE_CAN_ODIRECT).
  if (flags & O_DIRECT) return Errno{EINVAL};
  return kcov_.OpenServed(task, flags, inode);
}

void Served::Release(uint64_t handle) {
  if (handle != 0) kcov_.ReleaseServed(handle);
}

int Served::ReadWrite(uint64_t handle, bool reading) {
  std::shared_ptr<KcovFile> file = kcov_.FindServed(handle);
  if (!file) return EBADF;
  // The host checked FMODE_READ / FMODE_WRITE (EBADF) before asking: kcov
  // has no read or write operation.
  (void)reading;
  return EINVAL;
}

Answer Served::Ioctl(Kernel& kernel, Syscall& sc, uint64_t handle, unsigned cmd, uint64_t arg) {
  std::shared_ptr<KcovFile> file = kcov_.FindServed(handle);
  if (!file) return Answer::Error(ENOTTY);  // the directory
  return file->Ioctl(kernel, sc, cmd, arg);
}

void Served::Statfs(struct statvfs* out) {
  // What the host shows of it is FUSE's (its magic number): the sentry
  // traps statfs(2) and fstatfs(2) and answers debugfs's itself.
  std::memset(out, 0, sizeof *out);
  out->f_bsize = out->f_frsize = 4096;
  out->f_namemax = NAME_MAX;
}

}  // namespace ukcov::sentry::debugfs
