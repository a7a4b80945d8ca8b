// The sentry's view of the filesystem tree: its mounts (its filesystems'
// instances at host directories: debugfs at /sys/kernel/debug, each tmpfs
// the user asked for) and the path walk that routes a guest path to a mount
// or to the host. Instrumented.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sentry/vfs/filesystem.h"
#include "sentry/vfs/inode.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {

class Kernel;
struct TaskState;
struct Credentials;

struct Mount {
  std::string path;  // canonical host path of the mount point
  std::unique_ptr<Filesystem> fs;
  // Served over FUSE (interception mode "served"): the FUSE mount's device
  // in the guest's namespace, and the inode the host knows by a number
  // (a guest fd's st_ino there). 0 and empty otherwise.
  dev_t served_dev = 0;
  std::function<InodeRef(uint64_t)> served_inode;
  // Waits until the host's queued requests (its forgets and releases) are
  // served: before the sentry answers what they change (statfs).
  std::function<void()> served_settle;
};

// Where a path leads: the host's tree, or a mount of the sentry's.
struct Location {
  // The host's: the walk never left the host's own resolution of the guest's
  // path (rerouted false): the host can answer the call as it is.
  bool rerouted = false;
  std::string host_path;
  // A mount's (non-null): the last component's parent and name, and what
  // is there (null: nothing). The mount's root itself has no parent.
  Mount* mount = nullptr;
  InodeRef parent;
  std::string name;
  InodeRef inode;

  bool on_host() const { return mount == nullptr; }
  enum class Last { kNormal, kDot, kDotDot, kRoot };
  Last last = Last::kNormal;
  // A path whose last component is ".." at a mount's root: it leads to the
  // host, but its parent (where Linux's rename and link look) is that mount.
  Mount* dotdot_from = nullptr;
  bool trailing_slash = false;
};

// Flags of Vfs::Resolve.
inline constexpr unsigned kFollowLast = 1;   // follow a symlink in the last component
inline constexpr unsigned kMustExist = 2;    // ENOENT when the last component is missing
inline constexpr unsigned kAllowEmpty = 4;   // AT_EMPTY_PATH: "" is the dirfd itself
inline constexpr unsigned kNoSymlinks = 8;   // RESOLVE_NO_SYMLINKS
inline constexpr unsigned kNoXdev = 16;      // RESOLVE_NO_XDEV
inline constexpr unsigned kBeneath = 32;     // RESOLVE_BENEATH: never above the start
inline constexpr unsigned kInRoot = 64;      // RESOLVE_IN_ROOT: the start is "/"

// Locking: the mount table is fixed once the guest runs; each filesystem
// and inode has its own locks (vfs/inode.h, vfs/filesystem.h; the order is
// in docs/design.md). The walk takes no lock of the caller's.
class Vfs {
 public:
  // Mounts the filesystem `make` makes, given its device number, at `path`:
  // an existing host directory, unless `anywhere` (a path that stays a
  // mount point of the sentry's whether or not the host has it).
  using MakeFilesystem = std::function<std::unique_ptr<Filesystem>(dev_t)>;
  Result<void> AddMount(const std::string& path, const MakeFilesystem& make, bool anywhere, std::string* error);
  const std::vector<std::unique_ptr<Mount>>& mounts() const { return mounts_; }
  // Some mount not served over FUSE may have a struct file of a guest's
  // open (if not, every guest fd is the host's or a served mount's).
  // Without the lock.
  bool AnyOpened() const;
  // Some mount is served over FUSE (interception mode "served").
  bool AnyServed() const;
  Mount* MountAt(const std::string& canonical) const;
  Mount* MountOf(const Filesystem* fs) const;
  // The served mount whose FUSE device is `dev`, or null.
  Mount* ServedMountOf(dev_t dev) const;

  // The inode of a mount a guest's struct file is on, by the host inode
  // number of that file.
  Mount* FindByHostIno(ino_t host_ino, InodeRef* inode, bool* path_only) const;

  // The path of an inode of `mount` as the guest sees it (d_path): the
  // mount point, then the names up from the mount's root; a file's by its
  // dentry (Inode::name), "... (deleted)" once that name is removed. ENOENT
  // for a removed directory, or a file whose directory has gone.
  Result<std::string> PathOf(const Mount& mount, InodeRef inode) const;

  // The walk: where `path` leads from `dirfd` for `task`. The caller holds
  // no inode lock.
  Result<Location> Resolve(Kernel& kernel, TaskState& task, const Credentials& creds, int dirfd,
                           const std::string& path, unsigned flags);

 private:
  std::vector<std::unique_ptr<Mount>> mounts_;
};

}  // namespace ukcov::sentry
