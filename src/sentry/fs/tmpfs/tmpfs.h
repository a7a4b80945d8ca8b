// tmpfs: an in-memory filesystem served entirely by the sentry. Instrumented.
//
// Inodes, directories, symlinks, sizes, times, ownership and limits are the
// sentry's. A regular file's bytes live in a memfd the sentry owns (the
// page cache of this filesystem), so that a guest's mmap of the file maps the
// very pages the sentry reads and writes. A guest's open file description is
// a struct file of its own on the inode's memfd (a reopen through
// /proc/self/fd), installed with SECCOMP_ADDFD: the host then keeps its
// offset and status flags and shares it across dup, fork and SCM_RIGHTS, and
// the memfd's inode number says which tmpfs inode a guest fd is. Directories
// and symlinks get an empty memfd for that identity when first opened.
//
// Locking: the VFS's inode locks (vfs/inode.h) as each operation states,
// then the filesystem's own leaf locks (below).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/unique_fd.h"
#include "sentry/host_index.h"
#include "sentry/vfs/filesystem.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {
class Vfs;
}

namespace ukcov::sentry::tmpfs {

struct Options {
  // Unset: Linux's defaults, half of the host's RAM in pages for each
  // (shmem_default_max_blocks, shmem_default_max_inodes). 0: no limit.
  std::optional<uint64_t> size_bytes;
  std::optional<uint64_t> nr_inodes;
  mode_t mode = 01777;
  uid_t uid = 0;
  gid_t gid = 0;
};
// "size=BYTES[k|m|g|%],nr_inodes=N[k|m|g],mode=OCTAL,uid=N,gid=N" (a %
// of the host's RAM, as Linux's tmpfs takes it).
Result<Options> ParseOptions(const std::string& text, std::string* error);

// Mounts a new tmpfs at `path`, an existing host directory (--tmpfs).
Result<void> MountTmpfs(Vfs& vfs, const std::string& path, const Options& options, std::string* error);

// The largest file (MAX_LFS_FILESIZE).
inline constexpr uint64_t kMaxFileSize = 0x7fffffffffffffffull;

// A tmpfs inode: the VFS's, with its data and its identity for guest fds.
class Inode final : public sentry::Inode {
 public:
  using sentry::Inode::Inode;

  // Identity for the guest's fds; a regular file's data.
  UniqueFd memfd;
  ino_t host_ino = 0;
  int watch = -1;  // the inotify watch on the memfd, once opened by the guest
  // Open file descriptions the guest may still hold (installs minus
  // releases seen; an over-estimate when releases coalesce). Guarded by the
  // filesystem's files_mu_, as `watch` is.
  uint64_t opens = 0;
  // Of those, O_PATH descriptions: each has a token of its own, so this
  // count is exact (files_mu_).
  uint64_t path_opens = 0;

  // The host has written the memfd directly (copy_file_range, sendfile,
  // splice into it): its size is the memfd's from then on (SyncSize).
  bool external_io = false;
  // Run as a program at least once (guarded by the inode's lock): a size
  // change asks the host first whether it still runs (ETXTBSY).
  bool executed = false;
  bool forgotten = false;  // freed (guarded by the filesystem's files_mu_)
  // In the mode "served" (files_mu_): open FUSE files on it (exact: the
  // host sends one release for each), and whether the host holds its node
  // (a lookup not yet forgotten). An open keeps the inode; a hold keeps
  // only its data, for an open that raced with the unlink: the inode is
  // counted free when Linux's would be, as the host forgets it later.
  uint64_t served_opens = 0;
  bool served_held = false;
  uint64_t freed_blocks = 0;  // its blocks when counted free, data kept (usage_mu_)
};

// The tmpfs inode behind a VFS inode of a tmpfs.
inline Inode& Of(sentry::Inode& inode) { return static_cast<Inode&>(inode); }
inline const Inode& Of(const sentry::Inode& inode) { return static_cast<const Inode&>(inode); }

using InodeRef = std::shared_ptr<Inode>;

class Filesystem final : public sentry::Filesystem {
 public:
  Filesystem(const Options& options, dev_t dev);
  ~Filesystem() override;

  // ---- sentry::Filesystem ----
  void Statfs(struct statfs* out) override;  // mm/shmem.c shmem_statfs
  void Check(std::string* problems) const override;
  // Reads the releases the host reported. Called by the operations whose
  // outcome they can change (unlink, the inode limit, statfs), not by a
  // thread of its own: a wake-up per close would cost more than the close.
  void DrainReleases() override;
  // The same, from a caller that holds the locks of `held` (never taken
  // here).
  void DrainReleases(std::initializer_list<const sentry::Inode*> held);
  Result<sentry::InodeRef> Create(const sentry::InodeRef& dir, const std::string& name, mode_t mode, dev_t rdev,
                                  const std::string& target, const Credentials& creds) override;
  Result<sentry::InodeRef> CreateUnnamed(const sentry::InodeRef& dir, mode_t mode, const Credentials& creds) override;
  // An extra hard link counts against nr_inodes, as Linux's tmpfs counts it.
  Result<void> Link(const sentry::InodeRef& dir, const std::string& name, const sentry::InodeRef& inode) override;
  // The inode goes when no name and no open description refers to it.
  Result<void> Unlink(const sentry::InodeRef& dir, const std::string& name) override;
  Result<void> Rename(const sentry::InodeRef& old_dir, const std::string& old_name, const sentry::InodeRef& new_dir,
                      const std::string& new_name, unsigned flags, const Credentials& creds) override;
  Result<void> SetSize(sentry::Inode& inode, uint64_t size) override;
  void Getattr(const sentry::Inode& inode, struct stat* st) override;  // shmem_getattr
  int XattrSupport(const std::string& name, bool write) const override;  // user., trusted., security.
  void SyncSize(sentry::Inode& inode) override;
  Answer Open(Kernel& kernel, Syscall& sc, const sentry::InodeRef& inode, int flags, const Credentials& creds) override;
  // The host socket is bound at the inode's stand-in.
  Result<sentry::InodeRef> BindSocket(const sentry::InodeRef& dir, const std::string& name, mode_t mode,
                                      const Credentials& creds, int socket) override;
  Result<std::string> SocketPath(const sentry::Inode& inode) override;
  Result<size_t> ReadExecHeader(sentry::Inode& inode, char* buf, size_t n) override;
  // A read lease on the memfd is refused while any struct file has it open
  // for writing: the test deny_write_access makes (i_writecount).
  int DenyWriteAccess(sentry::Inode& inode) override;
  // A read-only description of the memfd, counted as the guest's, and one
  // more count for the struct file the host's exec opens from it (its
  // release, at exit or at the next exec, is reported like any other).
  Result<UniqueFd> OpenExec(const sentry::InodeRef& inode) override;
  sentry::InodeRef FindByHostIno(ino_t host_ino, bool* path_only) override;
  // F_GETFL of the O_PATH description whose token is `host_ino`.
  int PathFlags(ino_t host_ino);
  std::shared_ptr<File> FileOf(Mount* mount, const sentry::InodeRef& inode, UniqueFd description,
                               bool path_only) override;

  // ---- the mode "served" (served.h) ----
  // A FUSE open file of the inode begins or ends: while one is open the
  // inode stays, named or not. Caller holds the inode's lock.
  void ServedOpened(Inode& inode);
  void ServedReleased(Inode& inode);
  // The host holds the inode's node, or has forgotten it. Caller holds the
  // inode's lock.
  void ServedHeld(Inode& inode, bool held);

  // ---- the data of regular files, for tmpfs's File ----
  // ENOSPC beyond the size limit; EFBIG beyond the maximum file size.
  Result<size_t> Read(Inode& inode, uint64_t offset, void* buf, size_t n);
  Result<size_t> Write(Inode& inode, uint64_t offset, const void* buf, size_t n);
  Result<void> Truncate(Inode& inode, uint64_t size);
  Result<void> Allocate(Inode& inode, int mode, uint64_t offset, uint64_t length);
  // fallocate(2) past vfs_fallocate's check of the file's access mode: its
  // checks of the inode and the range, then shmem_fallocate's (`task`: the
  // caller, whose RLIMIT_FSIZE applies; null: none known). Caller holds the
  // inode's lock.
  Result<void> Fallocate(Inode& inode, int mode, int64_t offset, int64_t length, const TaskState* task);

  // ---- chattr (FS_IOC_GETFLAGS / FS_IOC_SETFLAGS), on any inode ----
  // shmem_fileattr_get, and shmem_fileattr_set after fileattr_set_prepare's
  // checks. Caller holds the inode's lock.
  static int InodeFlags(const sentry::Inode& inode);
  static Result<void> SetInodeFlags(sentry::Inode& inode, int flags, const Credentials& creds);
  uint64_t EmptyPages(Inode& inode, uint64_t first, uint64_t end);
  // SEEK_DATA / SEEK_HOLE, from the memfd's pages.
  Result<uint64_t> SeekData(Inode& inode, uint64_t offset, int whence);

  uint64_t used_inodes() const { return used_inodes_; }
  uint64_t max_inodes() const { return max_inodes_; }

 private:
  // A new inode (not yet linked anywhere). ENOSPC at the inode limit.
  Result<InodeRef> NewInode(mode_t mode, const Credentials& creds, const sentry::Inode* dir);
  // dir/name → inode, counting links.
  void LinkEntry(const sentry::InodeRef& dir, const std::string& name, const InodeRef& inode);
  // Room for one more inode, or one more name of an existing file. ENOSPC
  // when there is none.
  Result<void> ReserveInode(const sentry::Inode* held);
  void RemoveEntry(sentry::Inode& dir, const std::string& name);
  // A FIFO's open: a host FIFO private to the sentry stands for the inode's
  // pipe (one per inode, made at its first open), so the data moves
  // natively. Opened without blocking (the worker must not wait for a
  // peer): ENXIO for a writer with no reader, as Linux's O_NONBLOCK gives.
  Result<UniqueFd> OpenFifo(Inode& inode, int flags);
  // A FIFO's or socket's stand-in on the host: a path in a directory private
  // to the sentry (made when first needed).
  Result<std::string> StandInPath(const Inode& inode);
  // A struct file on the inode for the guest (flags: access mode and the
  // status flags Linux keeps in f_flags), counted as an open description.
  // An O_PATH description is a token memfd of its own: the host will not
  // install an O_PATH file (fget skips them), and the token says "O_PATH".
  Result<UniqueFd> OpenDescription(const InodeRef& inode, int flags);
  // Reads the host's release reports; a description of `host_ino` was
  // released (an inotify IN_CLOSE). Caller holds files_mu_.
  void ReadReleases();
  void Released(ino_t host_ino);
  // nlink 0 and nothing open: frees it. Caller holds the inode's lock (or
  // nobody else can reach it). With `opens` above 0 it asks the host first
  // whether any description other than O_PATH ones is left: inotify merges
  // identical events queued back to back (two descriptions closed at one
  // exit), so `opens` may never come down to 0 by itself.
  void ForgetIfUnused(Inode& inode);
  // The data of an inode counted free but kept for the host (served_held)
  // goes once the host holds nothing of it. Caller holds the inode's lock.
  void DropKeptData(Inode& inode);
  // Whether a description of the inode's memfd other than the sentry's own
  // is open anywhere (an fd, a mapping, an exec, an fd in flight): a write
  // lease is granted only when none is (check_conflicting_open). Caller
  // holds files_mu_.
  bool HasOtherDescriptions(Inode& inode);
  Result<void> EnsureMemfd(Inode& inode);
  uint64_t BlocksOf(uint64_t bytes) const;
  void AccountBlocks(const struct stat& before, const struct stat& after);
  void AccountBlocksLocked(const struct stat& before, const struct stat& after);  // usage_mu_ held

  std::string StandInPathOf(const Inode& inode) const;

  Options options_;
  // Lock order: an inode's lock (vfs/inode.h), then files_mu_, then
  // stand_in_mu_ or usage_mu_. None is held across a guest-memory copy.
  std::mutex stand_in_mu_;
  std::string stand_in_dir_;  // made at the first stand-in, removed with the filesystem
  std::mutex usage_mu_;  // the counts and limits below
  uint64_t next_ino_ = 2;
  uint64_t used_inodes_ = 0;
  uint64_t max_inodes_;
  uint64_t max_blocks_;  // pages; 0 = no limit
  uint64_t used_blocks_ = 0;
  std::mutex files_mu_;  // the guest's open descriptions: what follows
  UniqueFd inotify_;
  // By the memfd's host inode number (host_index.h: lookups stay out of
  // the coverage).
  HostIndex<InodeRef> by_host_ino_;
  struct PathToken {
    InodeRef inode;
    UniqueFd token;
    int watch;
    int flags;  // what F_GETFL reports: O_PATH and the O_NOFOLLOW, O_DIRECTORY it was opened with
  };
  HostIndex<PathToken> path_tokens_;  // an O_PATH description each, by its token's host inode number
  HostIndex<ino_t> by_watch_;  // changes on the host's inotify reports
  std::vector<InodeRef> orphans_;  // no description left: freed once nameless too
};

}  // namespace ukcov::sentry::tmpfs
