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
// Locking: every operation runs under the VFS lock (Vfs::mu), held by the
// syscall handler for the whole call, so each call is atomic.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "base/unique_fd.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {
struct Credentials;
}

namespace ukcov::sentry::tmpfs {

struct Options {
  uint64_t size_bytes = 0;  // 0: no limit but memory (Linux: half of RAM)
  uint64_t nr_inodes = 0;   // 0: the default (see Filesystem)
  mode_t mode = 01777;
  uid_t uid = 0;
  gid_t gid = 0;
};
// "size=BYTES[k|m|g],nr_inodes=N[k|m|g],mode=OCTAL,uid=N,gid=N".
Result<Options> ParseOptions(const std::string& text, std::string* error);

class Inode;
using InodeRef = std::shared_ptr<Inode>;

class Inode {
 public:
  uint64_t ino = 0;
  mode_t mode = 0;  // type and permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  uint32_t nlink = 0;
  timespec atime{}, mtime{}, ctime{}, btime{};
  uint64_t size = 0;  // regular: bytes; symlink: target length

  // Identity for the guest's fds; a regular file's data.
  UniqueFd memfd;
  ino_t host_ino = 0;
  int watch = -1;  // the inotify watch on the memfd, once opened by the guest
  // Open file descriptions the guest may still hold (installs minus
  // releases seen; an over-estimate when releases coalesce).
  uint64_t opens = 0;

  std::string target;  // symlink
  bool linkable = false;  // O_TMPFILE without O_EXCL: linkat may give it a name
  // The host has written the memfd directly (copy_file_range, sendfile,
  // splice into it): its size is the memfd's from then on (SyncSize).
  bool external_io = false;
  std::map<std::string, std::string> xattrs;  // name with its namespace prefix

  // Directory: entries in creation order (the getdents64 offset is an
  // entry's cookie, so offsets stay valid while the directory changes).
  std::weak_ptr<Inode> parent;
  struct Entry {
    std::string name;
    InodeRef inode;
  };
  std::map<uint64_t, Entry> entries;
  std::unordered_map<std::string, uint64_t> cookies;
  uint64_t next_cookie = 3;  // 1 and 2 are "." and ".."

  dev_t rdev = 0;  // a device node's device number

  bool is_dir() const { return S_ISDIR(mode); }
  bool is_fifo() const { return S_ISFIFO(mode); }
  bool is_reg() const { return S_ISREG(mode); }
  bool is_symlink() const { return S_ISLNK(mode); }
};

struct StatFs {
  uint64_t blocks, bfree, files, ffree;
};

class Filesystem {
 public:
  Filesystem(const Options& options, dev_t dev);
  ~Filesystem();

  dev_t dev() const { return dev_; }
  const InodeRef& root() const { return root_; }

  // A directory entry, or null.
  InodeRef Lookup(const Inode& dir, const std::string& name) const;

  // A regular file the host may have written behind the sentry's back:
  // takes the size the memfd has now.
  void SyncSize(Inode& inode);

  // A new inode (not yet linked anywhere). ENOSPC at the inode limit.
  Result<InodeRef> NewInode(mode_t mode, const Credentials& creds, const Inode* dir);
  // dir/name → inode. The caller checked that name is free.
  void Link(const InodeRef& dir, const std::string& name, const InodeRef& inode);
  // Room for one more inode, or one more name of an existing file (like
  // Linux's tmpfs, an extra hard link counts against nr_inodes). ENOSPC
  // when there is none.
  Result<void> ReserveInode();
  // Removes dir/name; the inode goes when no name and no open description
  // refers to it.
  void Unlink(Inode& dir, const std::string& name);
  // Moves/exchanges entries: old_dir/old_name → new_dir/new_name (replacing
  // what was there, which the caller validated).
  void Rename(const InodeRef& old_dir, const std::string& old_name, const InodeRef& new_dir,
              const std::string& new_name, bool exchange);

  // Regular file data. ENOSPC beyond the size limit; EFBIG beyond the
  // maximum file size.
  Result<size_t> Read(Inode& inode, uint64_t offset, void* buf, size_t n);
  Result<size_t> Write(Inode& inode, uint64_t offset, const void* buf, size_t n);
  Result<void> Truncate(Inode& inode, uint64_t size);
  Result<void> Allocate(Inode& inode, int mode, uint64_t offset, uint64_t length);
  // SEEK_DATA / SEEK_HOLE, from the memfd's pages.
  Result<uint64_t> SeekData(Inode& inode, uint64_t offset, int whence);

  // A FIFO's open: a host FIFO private to the sentry stands for the inode's
  // pipe (one per inode, made at its first open), so the data moves
  // natively. Opened without blocking (the worker must not wait for a
  // peer): ENXIO for a writer with no reader, as Linux's O_NONBLOCK gives;
  // a blocking open's wait is not reproduced.
  Result<UniqueFd> OpenFifo(Inode& inode, int flags);
  // A FIFO's or socket's stand-in on the host: a path in a directory private
  // to the sentry (made when first needed). A socket bound by the inode's
  // name is bound there, so that connect by the name reaches it.
  Result<std::string> StandInPath(const Inode& inode);

  // A struct file on the inode for the guest (flags: access mode and the
  // status flags Linux keeps in f_flags), counted as an open description.
  // An O_PATH description is a token memfd of its own: the host will not
  // install an O_PATH file (fget skips them), and the token says "O_PATH".
  Result<UniqueFd> OpenDescription(const InodeRef& inode, int flags);
  // The inode a guest fd's memfd inode number belongs to, or null;
  // *path_only: the fd is an O_PATH description.
  InodeRef FindByHostIno(ino_t host_ino, bool* path_only) const;
  // A description of `host_ino` was released (an inotify IN_CLOSE).
  void Released(ino_t host_ino);
  // Reads the releases the host reported. Called by the operations whose
  // outcome they can change (unlink, the inode limit, statfs), not by a
  // thread of its own: a wake-up per close would cost more than the close.
  void DrainReleases();

  StatFs statfs();
  // The tree's invariants (parents, link counts, inode accounting); one
  // line per violation in *problems. For tests, after the guest is gone.
  void Check(std::string* problems) const;
  uint64_t used_inodes() const { return used_inodes_; }
  uint64_t max_inodes() const { return max_inodes_; }

  static timespec Now();

 private:
  void Forget(const InodeRef& inode);  // nlink 0 and nothing open: free it
  Result<void> EnsureMemfd(Inode& inode);
  uint64_t BlocksOf(uint64_t bytes) const;
  void AccountBlocks(const struct stat& before, const struct stat& after);

  std::string StandInPathOf(const Inode& inode) const;

  Options options_;
  std::string stand_in_dir_;  // made at the first stand-in, removed with the filesystem
  dev_t dev_;
  uint64_t next_ino_ = 2;
  uint64_t used_inodes_ = 0;
  uint64_t max_inodes_;
  uint64_t max_blocks_;  // pages; 0 = no limit
  uint64_t used_blocks_ = 0;
  InodeRef root_;
  UniqueFd inotify_;
  std::unordered_map<ino_t, InodeRef> by_host_ino_;
  struct PathToken {
    InodeRef inode;
    UniqueFd token;
    int watch;
  };
  std::unordered_map<ino_t, PathToken> path_tokens_;  // an O_PATH description each
  std::unordered_map<int, ino_t> by_watch_;
};

// Time stamps, as Linux sets them: a change of the contents moves mtime and
// ctime; of the attributes, ctime.
inline void TouchModified(Inode& inode) { inode.mtime = inode.ctime = Filesystem::Now(); }
inline void TouchChanged(Inode& inode) { inode.ctime = Filesystem::Now(); }

}  // namespace ukcov::sentry::tmpfs
