// A tmpfs mount served to the host's VFS over FUSE, in the interception
// mode "served" (docs/sentry.md): the guest's mount point is a FUSE mount
// in its own mount namespace, so the host walks paths, numbers and passes
// fds, checks permissions (default_permissions) and caches pages and
// dentries itself, and sends the sentry what Linux's VFS asks a filesystem:
// inode_operations (lookup, create, mkdir, unlink, rename, setattr...) and
// the file_operations that reach the data (read, write, fallocate, llseek).
// Programs that never touch the mount run untrapped, and those that do
// cost one FUSE round trip per operation instead of one trap per syscall.
//
// The inodes are the mount's tmpfs::Filesystem's, the same code and tree
// as in the mode "all"; this class is what the syscall layer (syscalls/)
// is there: the checks Linux's VFS makes that the host's FUSE inode cannot
// (its inode flags, the filesystem's own errors), and the locks each
// Filesystem operation states. A FUSE node id is the inode number (the
// root's is 1, FUSE_ROOT_ID); the host holds each node until it forgets
// it, so an unlinked inode stays reachable by its number while the host
// has it. Instrumented.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sentry/fs/tmpfs/tmpfs.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {
struct Credentials;
}

namespace ukcov::sentry::tmpfs {

class Served {
 public:
  explicit Served(Filesystem& fs);

  Filesystem& fs() { return fs_; }

  // lookup: the entry's attributes; the host now holds the node once more.
  Result<struct stat> Lookup(uint64_t parent, const std::string& name);
  // forget: the host let go of `count` lookups of the node.
  void Forget(uint64_t node, uint64_t count);
  // getattr, and statx's birth time (`btime`, if asked).
  Result<struct stat> Getattr(uint64_t node, timespec* btime = nullptr);
  // setattr after the host's checks (setattr_prepare with
  // default_permissions, ftruncate's of the file's mode, ETXTBSY): `to_set`
  // is FUSE_SET_ATTR_*.
  Result<struct stat> Setattr(uint64_t node, const struct stat& attr, int to_set);
  Result<std::string> Readlink(uint64_t node);
  // mknod, mkdir, symlink and create: a new inode at parent/name (mode:
  // type and permission bits, the umask applied by the host).
  Result<struct stat> Make(uint64_t parent, const std::string& name, mode_t mode, dev_t rdev,
                           const std::string& target, const Credentials& creds);
  // unlink and rmdir.
  Result<void> Remove(uint64_t parent, const std::string& name, bool directory);
  Result<void> Rename(uint64_t parent, const std::string& name, uint64_t new_parent, const std::string& new_name,
                      unsigned flags, const Credentials& creds);
  Result<struct stat> Link(uint64_t node, uint64_t new_parent, const std::string& new_name);

  // An open file the host holds (FUSE's file handle): the inode stays
  // while it does, named or not, and its flags are the description's.
  struct OpenFile {
    sentry::InodeRef inode;
    int flags;
  };
  // open, and create's open: the handle, until its release.
  Result<uint64_t> Open(uint64_t node, int flags);
  // O_TMPFILE (FUSE_TMPFILE): a new regular file with no name, open (its
  // handle in *handle).
  Result<struct stat> MakeUnnamed(uint64_t parent, mode_t mode, int flags, const Credentials& creds,
                                  uint64_t* handle);
  void Release(uint64_t handle);
  Result<size_t> Read(uint64_t node, uint64_t offset, char* buf, size_t n, int file_flags);
  Result<size_t> Write(uint64_t node, uint64_t offset, const char* buf, size_t n, int file_flags);
  // After vfs_fallocate's checks, which the host makes; `task`: the
  // caller, whose file size limit applies (if known).
  Result<void> Fallocate(uint64_t node, int mode, int64_t offset, int64_t length, const TaskState* task);
  // SEEK_DATA and SEEK_HOLE (the host does the others).
  Result<uint64_t> SeekData(uint64_t node, int64_t offset, int whence);
  // FS_IOC_GETFLAGS / FS_IOC_SETFLAGS (chattr): the flags, or set them.
  Result<int> GetFlags(uint64_t node);
  Result<void> SetFlags(uint64_t node, int flags, const Credentials& creds);

  // A directory's entries after position `after` (0: from the start;
  // "." is at 1, ".." at 2, then each entry at its cookie, as getdents's
  // offsets are in the mode "all").
  struct Entry {
    std::string name;
    uint64_t ino;
    mode_t type;
    uint64_t next;  // the position after it
  };
  Result<std::vector<Entry>> List(uint64_t node, uint64_t after);
  void Statfs(struct statvfs* out);

  // The extended attributes (simple_xattrs, after the VFS's checks that the
  // host makes; `creds` for the trusted namespace's listing).
  Result<void> SetXattr(uint64_t node, const std::string& name, const std::string& value, int flags);
  Result<std::string> GetXattr(uint64_t node, const std::string& name);
  Result<std::vector<std::string>> ListXattr(uint64_t node, const Credentials& creds);
  Result<void> RemoveXattr(uint64_t node, const std::string& name);

  // The inode the host knows by this number, or null (the fd lookup's,
  // for a guest fd on the mount).
  sentry::InodeRef Find(uint64_t node);

 private:
  sentry::InodeRef Node(uint64_t node);
  // The directory `parent` for an entry `name`: ENOENT if the host's node
  // is unknown, ENAMETOOLONG past tmpfs's NAME_MAX.
  Result<sentry::InodeRef> Parent(uint64_t parent, const std::string& name);
  struct stat Attr(sentry::Inode& inode);
  // The host holds `inode` once more (a lookup, or an entry it was given):
  // while it holds it at all, the inode stays (a name the host looked up
  // may be unlinked before its open, as on Linux the walk's dentry keeps
  // the inode).
  void Hold(const sentry::InodeRef& inode);
  uint64_t NewHandle(const sentry::InodeRef& inode, int flags);
  // One reference of the host's to `inode` more, or less.
  void Ref(sentry::Inode& inode);
  void Unref(sentry::Inode& inode);

  Filesystem& fs_;
  std::mutex nodes_mu_;  // a leaf
  struct Held {
    sentry::InodeRef inode;
    uint64_t lookups = 0;
  };
  std::unordered_map<uint64_t, Held> nodes_;  // guarded by nodes_mu_
  // By handle (the address): the host's releases may be dropped with the
  // connection, at the guest's end; whatever is left goes with this.
  std::unordered_map<uint64_t, std::unique_ptr<OpenFile>> files_;  // guarded by nodes_mu_
};

}  // namespace ukcov::sentry::tmpfs
