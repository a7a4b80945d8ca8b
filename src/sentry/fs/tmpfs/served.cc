#include "sentry/fs/tmpfs/served.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/xattr.h>
#include <sys/statfs.h>

#include <cerrno>
#include <memory>

#include "sentry/credentials.h"
#include "sentry/vfs/permission.h"

// FUSE_SET_ATTR_* (fuse_lowlevel.h), without libfuse in instrumented code.
#define UKCOV_FATTR_MODE (1 << 0)
#define UKCOV_FATTR_UID (1 << 1)
#define UKCOV_FATTR_GID (1 << 2)
#define UKCOV_FATTR_SIZE (1 << 3)
#define UKCOV_FATTR_ATIME (1 << 4)
#define UKCOV_FATTR_MTIME (1 << 5)
#define UKCOV_FATTR_ATIME_NOW (1 << 7)
#define UKCOV_FATTR_MTIME_NOW (1 << 8)
#define UKCOV_FATTR_CTIME (1 << 10)

namespace ukcov::sentry::tmpfs {
namespace {

constexpr size_t kNameMax = 255;  // tmpfs's NAME_MAX; FUSE's own is 1024
constexpr uint64_t kEndOfDirectory = INT32_MAX;  // vfs/readdir.cc's
// The root's node id (FUSE_ROOT_ID) and inode number: held for the
// connection's life, never freed.
constexpr uint64_t kRootNode = 1;

// The host's FUSE inode has no S_IMMUTABLE or S_APPEND: the VFS's checks
// of them (may_delete, notify_change, vfs_link, xattr_permission) are
// made here.
bool Pinned(const sentry::Inode& inode) { return inode.immutable() || inode.append_only(); }

}  // namespace

Served::Served(Filesystem& fs) : fs_(fs) {
  std::lock_guard lock(nodes_mu_);
  nodes_[kRootNode] = Held{fs.root(), 1};
}

sentry::InodeRef Served::Node(uint64_t node) {
  std::lock_guard lock(nodes_mu_);
  auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : it->second.inode;
}

sentry::InodeRef Served::Find(uint64_t node) { return Node(node); }

void Served::Ref(sentry::Inode& inode) {
  if (inode.ino == kRootNode) return;
  fs_.ServedOpened(tmpfs::Of(inode));
}

void Served::Unref(sentry::Inode& inode) {
  if (inode.ino == kRootNode) return;
  std::lock_guard lock(inode.mu);
  fs_.ServedReleased(tmpfs::Of(inode));
}

void Served::Hold(const sentry::InodeRef& inode) {
  bool first;
  {
    std::lock_guard lock(nodes_mu_);
    Held& held = nodes_[inode->ino];
    first = held.lookups++ == 0;
    held.inode = inode;
  }
  if (first && inode->ino != kRootNode) {
    std::lock_guard lock(inode->mu);
    fs_.ServedHeld(tmpfs::Of(*inode), true);
  }
}

void Served::Forget(uint64_t node, uint64_t count) {
  sentry::InodeRef gone;
  {
    std::lock_guard lock(nodes_mu_);
    auto it = nodes_.find(node);
    if (it == nodes_.end() || node == kRootNode) return;
    if (it->second.lookups > count) {
      it->second.lookups -= count;
      return;
    }
    gone = std::move(it->second.inode);
    nodes_.erase(it);
  }
  std::lock_guard lock(gone->mu);
  fs_.ServedHeld(tmpfs::Of(*gone), false);
}

struct stat Served::Attr(sentry::Inode& inode) {
  struct stat st {};
  fs_.SyncSize(inode);
  fs_.Getattr(inode, &st);
  return st;
}

Result<sentry::InodeRef> Served::Parent(uint64_t parent, const std::string& name) {
  sentry::InodeRef dir = Node(parent);
  if (!dir) return Errno{ENOENT};
  if (name.size() > kNameMax) return Errno{ENAMETOOLONG};
  return dir;
}

Result<struct stat> Served::Lookup(uint64_t parent, const std::string& name) {
  Result<sentry::InodeRef> found = Parent(parent, name);
  if (!found) return Errno{found.error()};
  sentry::InodeRef dir = std::move(found.value());
  sentry::InodeRef inode;
  {
    std::lock_guard lock(dir->mu);
    if (!dir->is_dir()) return Errno{ENOTDIR};
    inode = fs_.Lookup(*dir, name);
  }
  if (!inode) return Errno{ENOENT};
  Hold(inode);
  std::lock_guard lock(inode->mu);
  return Attr(*inode);
}

Result<struct stat> Served::Getattr(uint64_t node, timespec* btime) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  if (btime != nullptr) *btime = inode->btime;
  return Attr(*inode);
}

Result<struct stat> Served::Setattr(uint64_t node, const struct stat& attr, int to_set) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  // notify_change: an immutable or append-only inode keeps its mode,
  // owner and explicit times; do_truncate: its size.
  if (Pinned(*inode) && (to_set & (UKCOV_FATTR_MODE | UKCOV_FATTR_UID | UKCOV_FATTR_GID | UKCOV_FATTR_SIZE)))
    return Errno{EPERM};
  if (Pinned(*inode) && (to_set & (UKCOV_FATTR_ATIME | UKCOV_FATTR_MTIME)) &&
      !(to_set & (UKCOV_FATTR_ATIME_NOW | UKCOV_FATTR_MTIME_NOW)))
    return Errno{EPERM};
  if (inode->immutable() && (to_set & (UKCOV_FATTR_ATIME_NOW | UKCOV_FATTR_MTIME_NOW))) return Errno{EPERM};
  if (to_set & UKCOV_FATTR_SIZE) {
    if (inode->is_dir()) return Errno{EISDIR};
    if (!inode->is_reg()) return Errno{EINVAL};
    const uint64_t size = static_cast<uint64_t>(attr.st_size);
    if (size != inode->size) {
      if (Result<void> r = fs_.SetSize(*inode, size); !r) return Errno{r.error()};
    } else {
      TouchModified(*inode);  // do_truncate asks for new times whatever the size
    }
  }
  if (to_set & UKCOV_FATTR_MODE) inode->mode = inode->type | (attr.st_mode & 07777);
  if (to_set & UKCOV_FATTR_UID) inode->uid = attr.st_uid;
  if (to_set & UKCOV_FATTR_GID) inode->gid = attr.st_gid;
  const timespec now = CurrentTime();
  if (to_set & UKCOV_FATTR_ATIME) inode->atime = (to_set & UKCOV_FATTR_ATIME_NOW) ? now : attr.st_atim;
  if (to_set & UKCOV_FATTR_MTIME) inode->mtime = (to_set & UKCOV_FATTR_MTIME_NOW) ? now : attr.st_mtim;
  inode->ctime = (to_set & UKCOV_FATTR_CTIME) ? attr.st_ctim : now;
  return Attr(*inode);
}

Result<std::string> Served::Readlink(uint64_t node) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  if (!inode->is_symlink()) return Errno{EINVAL};
  std::lock_guard lock(inode->mu);
  TouchAccessed(*inode);
  return inode->target;
}

Result<struct stat> Served::Make(uint64_t parent, const std::string& name, mode_t mode, dev_t rdev,
                                 const std::string& target, const Credentials& creds) {
  Result<sentry::InodeRef> found = Parent(parent, name);
  if (!found) return Errno{found.error()};
  sentry::InodeRef dir = std::move(found.value());
  sentry::InodeRef inode;
  {
    std::lock_guard lock(dir->mu);
    if (!dir->is_dir()) return Errno{ENOTDIR};
    if (dir->nlink == 0) return Errno{ENOENT};  // removed meanwhile
    if (dir->immutable()) return Errno{EPERM};  // inode_permission(MAY_WRITE)
    if (fs_.Lookup(*dir, name)) return Errno{EEXIST};
    Result<sentry::InodeRef> made = fs_.Create(dir, name, mode, rdev, target, creds);
    if (!made) return Errno{made.error()};
    inode = std::move(made.value());
  }
  Hold(inode);
  std::lock_guard lock(inode->mu);
  return Attr(*inode);
}

Result<void> Served::Remove(uint64_t parent, const std::string& name, bool directory) {
  sentry::InodeRef dir = Node(parent);
  if (!dir) return Errno{ENOENT};
  sentry::InodeRef victim;
  InodeLocks locks = fs_.LockEntry(dir, name, &victim);
  if (!victim) return Errno{ENOENT};
  // may_delete: the directory's append-only flag, the victim's flags.
  if (dir->append_only() || dir->immutable() || Pinned(*victim)) return Errno{EPERM};
  if (directory != victim->is_dir()) return Errno{directory ? ENOTDIR : EISDIR};
  if (directory && !victim->entries.empty()) return Errno{ENOTEMPTY};
  return fs_.Unlink(dir, name);
}

Result<void> Served::Rename(uint64_t parent, const std::string& name, uint64_t new_parent,
                            const std::string& new_name, unsigned flags, const Credentials& creds) {
  sentry::InodeRef from = Node(parent), to = Node(new_parent);
  if (!from || !to) return Errno{ENOENT};
  if (new_name.size() > kNameMax) return Errno{ENAMETOOLONG};
  // The host has made the VFS's checks (lock_rename's loops, may_delete,
  // the types) under its own rename lock; the tree's is taken as the
  // syscall layer takes it, and the names looked up again under the locks.
  std::lock_guard rename_lock(fs_.rename_mu);
  sentry::InodeRef source, target;
  InodeLocks locks = fs_.LockRename(from, name, to, new_name, &source, &target);
  if (!source) return Errno{ENOENT};
  if ((flags & RENAME_EXCHANGE) && !target) return Errno{ENOENT};
  if ((flags & RENAME_NOREPLACE) && target) return Errno{EEXIST};
  if (source == target) return {};
  if (from->append_only() || from->immutable() || Pinned(*source)) return Errno{EPERM};
  if (target && (to->append_only() || to->immutable() || Pinned(*target))) return Errno{EPERM};
  if (!target && to->immutable()) return Errno{EPERM};
  if (!(flags & RENAME_EXCHANGE) && target) {
    if (source->is_dir() && !target->is_dir()) return Errno{ENOTDIR};
    if (!source->is_dir() && target->is_dir()) return Errno{EISDIR};
    if (target->is_dir() && !target->entries.empty()) return Errno{ENOTEMPTY};
  }
  if (to->nlink == 0) return Errno{ENOENT};
  return fs_.Rename(from, name, to, new_name, flags, creds);
}

Result<struct stat> Served::Link(uint64_t node, uint64_t new_parent, const std::string& new_name) {
  sentry::InodeRef inode = Node(node), dir = Node(new_parent);
  if (!inode || !dir) return Errno{ENOENT};
  if (new_name.size() > kNameMax) return Errno{ENAMETOOLONG};
  {
    InodeLocks locks({dir.get(), inode.get()});
    if (dir->nlink == 0) return Errno{ENOENT};
    if (dir->immutable()) return Errno{EPERM};
    if (Pinned(*inode)) return Errno{EPERM};  // vfs_link
    if (inode->nlink == 0 && !inode->linkable) return Errno{ENOENT};
    if (fs_.Lookup(*dir, new_name)) return Errno{EEXIST};
    if (Result<void> r = fs_.Link(dir, new_name, inode); !r) return Errno{r.error()};
  }
  Hold(inode);
  std::lock_guard lock(inode->mu);
  return Attr(*inode);
}

Result<uint64_t> Served::Open(uint64_t node, int flags) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  const int access = flags & O_ACCMODE;
  // may_open: an immutable inode opens read-only; an append-only file
  // opens for writing only to append, and is never truncated.
  if (inode->immutable() && (access != O_RDONLY || (flags & O_TRUNC))) return Errno{EPERM};
  if (inode->append_only() && ((access != O_RDONLY && !(flags & O_APPEND)) || (flags & O_TRUNC))) return Errno{EPERM};
  if ((flags & O_DIRECT) && !inode->is_reg()) return Errno{EINVAL};
  // (O_TRUNC is the host's: a setattr after the open, once it has made
  // handle_truncate's checks, ETXTBSY among them.)
  Ref(*inode);
  return NewHandle(inode, flags);
}

uint64_t Served::NewHandle(const sentry::InodeRef& inode, int flags) {
  auto file = std::make_unique<OpenFile>(OpenFile{inode, flags});
  const uint64_t handle = reinterpret_cast<uint64_t>(file.get());
  std::lock_guard lock(nodes_mu_);
  files_.emplace(handle, std::move(file));
  return handle;
}

Result<struct stat> Served::MakeUnnamed(uint64_t parent, mode_t mode, int flags, const Credentials& creds,
                                        uint64_t* handle) {
  sentry::InodeRef dir = Node(parent);
  if (!dir) return Errno{ENOENT};
  sentry::InodeRef inode;
  {
    std::lock_guard lock(dir->mu);
    if (!dir->is_dir()) return Errno{ENOTDIR};
    if (dir->nlink == 0) return Errno{ENOENT};
    Result<sentry::InodeRef> made = fs_.CreateUnnamed(dir, mode & 07777, creds);
    if (!made) return Errno{made.error()};
    inode = std::move(made.value());
  }
  inode->linkable = !(flags & O_EXCL);  // nobody else has it yet
  Hold(inode);
  Ref(*inode);
  *handle = NewHandle(inode, flags);
  std::lock_guard lock(inode->mu);
  return Attr(*inode);
}

void Served::Release(uint64_t handle) {
  std::unique_ptr<OpenFile> file;
  {
    std::lock_guard lock(nodes_mu_);
    auto it = files_.find(handle);
    if (it == files_.end()) return;
    file = std::move(it->second);
    files_.erase(it);
  }
  Unref(*file->inode);
}

Result<size_t> Served::Read(uint64_t node, uint64_t offset, char* buf, size_t n, int file_flags) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  if (inode->is_dir()) return Errno{EISDIR};
  Result<size_t> r = fs_.Read(Of(*inode), offset, buf, n);
  if (r && !(file_flags & O_NOATIME)) TouchAccessed(*inode);
  return r;
}

Result<size_t> Served::Write(uint64_t node, uint64_t offset, const char* buf, size_t n, int file_flags) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  if (inode->immutable()) return Errno{EPERM};
  if (inode->append_only() && !(file_flags & O_APPEND)) return Errno{EPERM};
  Result<size_t> r = fs_.Write(Of(*inode), offset, buf, n);
  // (The host has dropped the set-user-ID bits before the write, with a
  // setattr: file_remove_privs. A write back of a shared mapping's pages
  // comes from no task at all.)
  if (r && *r > 0) TouchModified(*inode);
  return r;
}

Result<void> Served::Fallocate(uint64_t node, int mode, int64_t offset, int64_t length, const TaskState* task) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  // The host's FUSE checks the size limit only without KEEP_SIZE; the
  // filesystem checks it for both, as shmem_fallocate.
  return fs_.Fallocate(Of(*inode), mode, offset, length, task);
}

Result<uint64_t> Served::SeekData(uint64_t node, int64_t offset, int whence) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  if (offset < 0 || static_cast<uint64_t>(offset) >= inode->size) return Errno{ENXIO};
  return fs_.SeekData(Of(*inode), static_cast<uint64_t>(offset), whence);
}

Result<int> Served::GetFlags(uint64_t node) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  return Filesystem::InodeFlags(*inode);
}

Result<void> Served::SetFlags(uint64_t node, int flags, const Credentials& creds) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  return Filesystem::SetInodeFlags(*inode, flags, creds);
}

Result<std::vector<Served::Entry>> Served::List(uint64_t node, uint64_t after) {
  sentry::InodeRef dir = Node(node);
  if (!dir) return Errno{ENOENT};
  std::lock_guard lock(dir->mu);
  if (!dir->is_dir()) return Errno{ENOTDIR};
  std::vector<Entry> out;
  if (dir->nlink == 0) return out;  // iterate_dir: IS_DEADDIR
  // As the mode "all" lists (vfs/readdir.cc): ".", then ".." whose offset
  // is the first cookie not to return (entries made from then on wait for
  // a rewind), then the entries newest first, each at its own cookie.
  if (after < 1) out.push_back({".", dir->ino, S_IFDIR, 1});
  uint64_t pos = after;
  if (after < 2) {
    sentry::InodeRef up = dir->parent.lock();
    pos = dir->next_cookie;
    out.push_back({"..", up ? up->ino : dir->ino, S_IFDIR, pos});
  }
  if (after >= kEndOfDirectory) return out;
  for (auto it = dir->entries.lower_bound(pos); it != dir->entries.begin();) {
    --it;
    out.push_back({it->second.name, it->second.inode->ino, it->second.inode->type, it->first});
  }
  // A read to the end leaves the directory at the end's offset, as the
  // mode "all" does; the host's position is the last entry's.
  if (!out.empty()) out.back().next = kEndOfDirectory;
  TouchAccessed(*dir);
  return out;
}

void Served::Statfs(struct statvfs* out) {
  struct statfs st;
  fs_.Statfs(&st);
  *out = {};
  out->f_bsize = static_cast<unsigned long>(st.f_bsize);
  out->f_frsize = static_cast<unsigned long>(st.f_frsize ? st.f_frsize : st.f_bsize);
  out->f_blocks = st.f_blocks;
  out->f_bfree = st.f_bfree;
  out->f_bavail = st.f_bavail;
  out->f_files = st.f_files;
  out->f_ffree = st.f_ffree;
  out->f_favail = st.f_ffree;
  out->f_namemax = static_cast<unsigned long>(st.f_namelen);
}

Result<void> Served::SetXattr(uint64_t node, const std::string& name, const std::string& value, int flags) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  if (int e = fs_.XattrSupport(name, true)) return Errno{e};
  std::lock_guard lock(inode->mu);
  if (Pinned(*inode)) return Errno{EPERM};
  const bool exists = inode->xattrs.count(name) != 0;
  if ((flags & XATTR_CREATE) && exists) return Errno{EEXIST};
  if ((flags & XATTR_REPLACE) && !exists) return Errno{ENODATA};
  inode->xattrs[name] = value;
  TouchChanged(*inode);
  return {};
}

Result<std::string> Served::GetXattr(uint64_t node, const std::string& name) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  if (int e = fs_.XattrSupport(name, false)) return Errno{e};
  std::lock_guard lock(inode->mu);
  auto it = inode->xattrs.find(name);
  if (it == inode->xattrs.end()) return Errno{ENODATA};
  return it->second;
}

Result<std::vector<std::string>> Served::ListXattr(uint64_t node, const Credentials& creds) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  std::lock_guard lock(inode->mu);
  std::vector<std::string> names;
  for (const auto& [name, value] : inode->xattrs) {
    // simple_xattr_list: the trusted namespace only for CAP_SYS_ADMIN.
    if (name.rfind("trusted.", 0) == 0 && !creds.Capable(CAP_SYS_ADMIN)) continue;
    names.push_back(name);
  }
  return names;
}

Result<void> Served::RemoveXattr(uint64_t node, const std::string& name) {
  sentry::InodeRef inode = Node(node);
  if (!inode) return Errno{ENOENT};
  if (int e = fs_.XattrSupport(name, true)) return Errno{e};
  std::lock_guard lock(inode->mu);
  if (Pinned(*inode)) return Errno{EPERM};
  if (inode->xattrs.erase(name) == 0) return Errno{ENODATA};
  TouchChanged(*inode);
  return {};
}

}  // namespace ukcov::sentry::tmpfs
