// A filesystem of the sentry's: Linux's super_operations and
// inode_operations for one mounted instance. The syscall layer walks paths
// (vfs/vfs.h), makes the checks Linux's VFS makes (permissions, existence,
// types) and calls here; each filesystem (fs/tmpfs, fs/debugfs) owns the
// rest. Each default is Linux's answer for a filesystem whose operation
// table lacks the operation. Instrumented.
//
// Locks: each operation says which inode locks its caller holds (as
// Linux's inode_operations do: the directory's i_rwsem for create, both
// directories' and s_vfs_rename_mutex for rename...). A filesystem's own
// locks come after them and are leaves.
#pragma once

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cerrno>
#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "sentry/kernel.h"
#include "sentry/vfs/inode.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {

class File;
struct Credentials;
struct Mount;

// statfs(2)'s f_flags: ST_VALID says they are filled (the kernel's
// include/linux/statfs.h; not in the C library's headers).
inline constexpr unsigned long kStValid = 0x0020;

class Filesystem {
 public:
  explicit Filesystem(dev_t dev) : dev_(dev) {}
  virtual ~Filesystem() = default;
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  dev_t dev() const { return dev_; }
  const InodeRef& root() const { return root_; }

  // s_vfs_rename_mutex: held by rename (before any inode lock), and by
  // whoever follows ".." up several directories (Vfs::PathOf): a
  // directory's parent changes only under it and the directory's lock.
  std::mutex rename_mu;

  // A directory entry, or null (the dentry cache: the whole tree). Caller
  // holds dir's lock.
  InodeRef Lookup(const Inode& dir, const std::string& name) const;
  // A call that removes or replaces dir/name (unlink, rmdir): the
  // directory's lock and the entry's inode's, taken together, with the name
  // looked up again under them (*entry: null if it has gone).
  [[nodiscard]] InodeLocks LockEntry(const InodeRef& dir, const std::string& name, InodeRef* entry) const;
  // rename's (Linux's lock_rename; the caller holds rename_mu): both
  // directories' and both entries' inodes', taken together, with the names
  // looked up again under them (*source, *target: null where none is).
  [[nodiscard]] InodeLocks LockRename(const InodeRef& from, const std::string& name, const InodeRef& to,
                                      const std::string& new_name, InodeRef* source, InodeRef* target) const;

  // ---- super_operations ----
  // statfs(2) of the filesystem.
  virtual void Statfs(struct statfs* out) = 0;
  // The tree's invariants, one line per violation in *problems (tests, after
  // the guest is gone).
  virtual void Check(std::string* /*problems*/) const {}
  // Releases of open files the host has reported and the filesystem has
  // not read yet (see tmpfs).
  virtual void DrainReleases();  // none reported (vfs/releases.cc)

  // ---- inode_operations ----
  // mkdir, mknod, create and symlink: a new inode of `mode` (type and
  // permission bits, umask applied) linked at dir/name, which the caller
  // found free and may write. `rdev`: a device node's number; `target`: a
  // symlink's. Caller holds dir's lock. Absent: EPERM.
  virtual Result<InodeRef> Create(const InodeRef& dir, const std::string& name, mode_t mode, dev_t rdev,
                                  const std::string& target, const Credentials& creds);
  // O_TMPFILE: a new regular file with no name. Caller holds dir's lock.
  // Absent: EOPNOTSUPP.
  virtual Result<InodeRef> CreateUnnamed(const InodeRef& dir, mode_t mode, const Credentials& creds);
  // link: `inode` gets the name dir/name too. Caller holds dir's lock, then
  // the inode's. Absent: EPERM.
  virtual Result<void> Link(const InodeRef& dir, const std::string& name, const InodeRef& inode);
  // unlink and rmdir (the caller checked a directory is empty). Caller
  // holds dir's lock, then the victim's. Absent: EPERM.
  virtual Result<void> Unlink(const InodeRef& dir, const std::string& name);
  // rename: old_dir/old_name → new_dir/new_name, replacing what is there
  // (validated by the caller), or trading places (RENAME_EXCHANGE in
  // `flags`; RENAME_WHITEOUT is the filesystem's to refuse). Caller holds
  // rename_mu, both directories' locks, then the two entries' inodes'.
  // Absent: EPERM.
  virtual Result<void> Rename(const InodeRef& old_dir, const std::string& old_name, const InodeRef& new_dir,
                              const std::string& new_name, unsigned flags, const Credentials& creds);
  // setattr of the size (truncate, ftruncate, O_TRUNC), after the VFS's
  // checks. Caller holds the inode's lock. Absent: EPERM.
  virtual Result<void> SetSize(Inode& inode, uint64_t size);
  // getattr: stat(2)'s fields. By default the inode's attributes. Caller
  // holds the inode's lock.
  virtual void Getattr(const Inode& inode, struct stat* st);
  // Whether the filesystem keeps extended attributes of this name (its
  // xattr handlers, by namespace: "user.", "trusted."...): 0, or the errno
  // for a get (`write` false) or a set or remove. None: EOPNOTSUPP.
  virtual int XattrSupport(const std::string& /*name*/, bool /*write*/) const { return EOPNOTSUPP; }
  // A size the host may have changed behind the filesystem's back (a
  // memfd written by the host), taken before the inode is looked at.
  // Caller holds the inode's lock.
  virtual void SyncSize(Inode& /*inode*/) {}

  // ---- opening ----
  // open(2) of `inode` for `task`, after the VFS's checks: the struct file
  // to install in the guest (or, for an open that must wait, a deferred
  // answer). `flags`: open's, O_CREAT and O_EXCL done with. Caller holds
  // no inode lock.
  virtual Answer Open(Kernel& kernel, Syscall& sc, const InodeRef& inode, int flags, const Credentials& creds) = 0;
  // bind(2) of the host socket `socket` by the name dir/name (unix_bind's
  // mknod of an S_IFSOCK inode, with `mode`). Caller holds dir's lock.
  // Absent: EPERM.
  virtual Result<InodeRef> BindSocket(const InodeRef& dir, const std::string& name, mode_t mode,
                                      const Credentials& creds, int socket);
  // ---- exec (fs/exec.c) ----
  // The first bytes of the regular file `inode` (the binprm buffer a
  // binary format looks at). Caller holds the inode's lock. Absent: EACCES.
  virtual Result<size_t> ReadExecHeader(Inode& inode, char* buf, size_t n);
  // deny_write_access: ETXTBSY while a struct file has the file open for
  // writing (0 otherwise). Caller holds the inode's lock.
  virtual int DenyWriteAccess(Inode& /*inode*/) { return 0; }
  // A struct file of the regular file `inode` for the host to execute
  // (execveat(fd, "", AT_EMPTY_PATH): the host's binary formats, its
  // deny_write_access, and its mappings of the file). Caller holds no
  // inode lock. Absent: EACCES.
  virtual Result<UniqueFd> OpenExec(const InodeRef& inode);

  // A guest may hold a struct file Open made (a cheap over-estimate: the
  // fd lookup's fast path asks it for every fd call). Any thread.
  virtual bool MayHaveOpenFiles() const { return true; }
  // A socket's path on the host, where one bound by the inode's name is
  // bound: connect(2) by the name goes there. None: ECONNREFUSED. No lock.
  virtual Result<std::string> SocketPath(const Inode& inode);
  // The inode a guest fd's struct file belongs to, by the host inode number
  // of that file (as Open made it), or null; *path_only: an O_PATH
  // description. No lock.
  virtual InodeRef FindByHostIno(ino_t host_ino, bool* path_only) = 0;
  // The File for a guest fd FindByHostIno recognised, `description` the
  // guest's own struct file, borrowed.
  virtual std::shared_ptr<File> FileOf(Mount* mount, const InodeRef& inode, UniqueFd description,
                                       bool path_only) = 0;

 protected:
  // dir/name → inode in the tree (the new name's cookie is the next). The
  // name becomes a non-directory's dentry if it has none standing.
  static void AddEntry(const InodeRef& dir, const std::string& name, const InodeRef& inode);
  // A non-directory's dentry moves (rename), or is removed (unlink): the
  // caller holds the inode's lock.
  static void SetDentry(Inode& inode, const InodeRef& dir, const std::string& name);
  static void DropDentry(Inode& inode, const Inode& dir, const std::string& name);

  const dev_t dev_;
  InodeRef root_;
};

}  // namespace ukcov::sentry
