// An inode of one of the sentry's filesystems, with its place in the tree:
// Linux's struct inode and, for the in-memory filesystems the sentry has,
// its dentries. Like Linux's tmpfs and debugfs (fs/libfs.c: simple_lookup,
// offset directories, simple_xattrs), they keep their whole tree in the
// dentry cache, so the tree, the attributes the VFS checks and the simple
// extended attributes are the VFS's; what differs between filesystems is
// behind Filesystem (vfs/filesystem.h) and File (vfs/file.h). Instrumented.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
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
  uint64_t ino = 0;
  mode_t mode = 0;  // type and permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  uint32_t nlink = 0;
  timespec atime{}, mtime{}, ctime{}, btime{};
  uint64_t size = 0;  // regular: bytes; symlink: target length
  dev_t rdev = 0;     // a device node's device number

  bool linkable = false;  // I_LINKABLE: O_TMPFILE without O_EXCL, linkat may give it a name
  std::string target;  // symlink
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

  bool is_dir() const { return S_ISDIR(mode); }
  bool is_fifo() const { return S_ISFIFO(mode); }
  bool is_reg() const { return S_ISREG(mode); }
  bool is_symlink() const { return S_ISLNK(mode); }
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
