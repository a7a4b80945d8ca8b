// The sentry's view of the filesystem tree: its mounts (tmpfs instances at
// host directories) and the path walk that routes a guest path to a mount
// or to the host. Instrumented.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sentry/fs/tmpfs/tmpfs.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {

class Kernel;
struct TaskState;
struct Credentials;

struct Mount {
  std::string path;  // canonical host path of the mount point
  std::unique_ptr<tmpfs::Filesystem> fs;
};

// Where a path leads.
struct Location {
  enum class Kind { kHost, kTmpfs };
  Kind kind = Kind::kHost;
  // kHost: the walk never left the host's own resolution of the guest's
  // path (rerouted false): the host can answer the call as it is.
  bool rerouted = false;
  std::string host_path;
  // kTmpfs: the last component's parent and name, and what is there (null:
  // nothing). The mount's root itself has no parent.
  Mount* mount = nullptr;
  tmpfs::InodeRef parent;
  std::string name;
  tmpfs::InodeRef inode;
  enum class Last { kNormal, kDot, kDotDot, kRoot };
  Last last = Last::kNormal;
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

class Vfs {
 public:
  // Held by a handler for its whole call: each call is atomic.
  std::recursive_mutex mu;

  // Mounts a tmpfs at `path` (an existing host directory).
  Result<void> MountTmpfs(const std::string& path, const tmpfs::Options& options, std::string* error);
  bool empty() const { return mounts_.empty(); }
  const std::vector<std::unique_ptr<Mount>>& mounts() const { return mounts_; }
  Mount* MountAt(const std::string& canonical) const;
  Mount* MountOf(const tmpfs::Filesystem* fs) const;

  // The tmpfs inode a memfd's inode number belongs to. Caller holds mu.
  Mount* FindByHostIno(ino_t host_ino, tmpfs::InodeRef* inode, bool* path_only) const;

  // The walk. Caller holds mu.
  Result<Location> Resolve(Kernel& kernel, TaskState& task, const Credentials& creds, int dirfd,
                           const std::string& path, unsigned flags);

 private:
  std::vector<std::unique_ptr<Mount>> mounts_;
};

}  // namespace ukcov::sentry
