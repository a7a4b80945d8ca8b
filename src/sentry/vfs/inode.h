// An inode of one of the sentry's filesystems, with its place in the tree:
// Linux's struct inode and, for the in-memory filesystems the sentry has,
// its dentries. Like Linux's tmpfs and debugfs (fs/libfs.c: simple_lookup,
// offset directories, simple_xattrs), they keep their whole tree in the
// dentry cache, so the tree, the attributes the VFS checks and the simple
// extended attributes are the VFS's; what differs between filesystems is
// behind Filesystem (vfs/filesystem.h) and File (vfs/file.h). Instrumented.
//
// Locking (the whole order is in docs/design.md): `mu` guards the inode's
// attributes, its data's size and, for a directory, its entries and its
// children's "..". The walk holds one directory's lock at a time; a call
// that changes a directory holds it for the whole change. A call that needs
// several inodes (unlink: the directory and the victim; rename: up to four)
// takes them together with InodeLocks, never one while blocking on another:
// renames move directories, so "parent before child" is no fixed order.
// `type` and a symlink's `target` never change once the inode is in the
// tree, and are read without it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <initializer_list>
#include <unordered_map>

namespace ukcov::sentry {

class Filesystem;
class Inode;
using InodeRef = std::shared_ptr<Inode>;

class Inode {
 public:
  explicit Inode(Filesystem* fs) : fs(fs) {}
  virtual ~Inode() = default;
  Inode(const Inode&) = delete;
  Inode& operator=(const Inode&) = delete;

  Filesystem* const fs;  // its superblock
  std::mutex mu;

  mode_t type = 0;  // S_IFMT: set when made, never changed
  uint64_t ino = 0;  // never changed
  mode_t mode = 0;  // type and permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  uint32_t nlink = 0;
  timespec atime{}, mtime{}, ctime{}, btime{};
  uint64_t size = 0;  // regular: bytes; symlink: target length
  dev_t rdev = 0;     // a device node's device number

  bool linkable = false;  // I_LINKABLE: O_TMPFILE without O_EXCL, linkat may give it a name
  // The inode flags chattr sets (FS_*_FL of linux/fs.h: immutable,
  // append-only, nodump, noatime), as the filesystem keeps them.
  uint32_t flags = 0;
  bool immutable() const { return flags & 0x10; }    // FS_IMMUTABLE_FL
  bool append_only() const { return flags & 0x20; }  // FS_APPEND_FL
  std::string target;  // symlink
  std::map<std::string, std::string> xattrs;  // name with its namespace prefix

  // A directory's parent. Any other inode's dentry, for d_path (what
  // readlink of /proc/PID/fd/N and /proc/PID/exe give): the directory and
  // name it was made, linked or renamed by (the first that still stands,
  // when it has several), and whether that name has been removed
  // ("... (deleted)").
  std::weak_ptr<Inode> parent;
  std::string name;
  bool unhashed = false;

  // Directory: entries in creation order (the getdents64 offset is an
  // entry's cookie, so offsets stay valid while the directory changes).
  struct Entry {
    std::string name;
    InodeRef inode;
  };
  std::map<uint64_t, Entry> entries;
  std::unordered_map<std::string, uint64_t> cookies;
  uint64_t next_cookie = 3;  // 1 and 2 are "." and ".."

  bool is_dir() const { return S_ISDIR(type); }
  bool is_fifo() const { return S_ISFIFO(type); }
  bool is_reg() const { return S_ISREG(type); }
  bool is_symlink() const { return S_ISLNK(type); }
  bool is_socket() const { return S_ISSOCK(type); }
  bool is_device() const { return S_ISCHR(type) || S_ISBLK(type); }
};

// Several inodes' locks at once (nulls and repeats skipped): one is waited
// for, the others tried, and on a failure all are let go and the one that
// failed is waited for next (std::lock's way). No order among them is
// needed, and none is held while waiting for another.
class InodeLocks {
 public:
  static constexpr size_t kMax = 4;  // rename's two directories and two entries

  InodeLocks() = default;
  // At most kMax distinct inodes.
  explicit InodeLocks(std::initializer_list<Inode*> inodes);
  ~InodeLocks() { Unlock(); }
  InodeLocks(const InodeLocks&) = delete;
  InodeLocks& operator=(const InodeLocks&) = delete;
  InodeLocks(InodeLocks&& other) noexcept : held_(other.held_), count_(other.count_) { other.count_ = 0; }
  InodeLocks& operator=(InodeLocks&& other) noexcept;

  void Unlock();

 private:
  std::array<Inode*, kMax> held_{};
  size_t count_ = 0;
};

// The time stamps' clock (current_time()).
timespec CurrentTime();

// Time stamps, as Linux sets them: a change of the contents moves mtime and
// ctime; of the attributes, ctime.
inline void TouchModified(Inode& inode) { inode.mtime = inode.ctime = CurrentTime(); }
inline void TouchChanged(Inode& inode) { inode.ctime = CurrentTime(); }
// Relatime: atime moves when it is not newer than mtime or ctime, or is a
// day old (Linux's default mount option).
void TouchAccessed(Inode& inode);

}  // namespace ukcov::sentry
