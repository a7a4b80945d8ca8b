#include "sentry/vfs/vfs.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>

#include "sentry/fd_table.h"
#include "sentry/kernel.h"
#include "sentry/proc_files.h"
#include "sentry/vfs/permission.h"

namespace ukcov::sentry {
namespace {

constexpr int kMaxSymlinks = 40;  // Linux's MAXSYMLINKS

// The host phase's paths are built on the heap whatever their length: a
// path under /proc holds a pid, and whether its string fits the inline
// buffer (15 characters) would otherwise choose the string code that runs,
// and so the walk's coverage, by the pid's digits (docs/coverage.md).
constexpr size_t kHeapPath = 64;

std::string Join(const std::string& dir, const std::string& name) {
  std::string out;
  out.reserve(std::max(kHeapPath, dir.size() + name.size() + 2));
  if (dir.size() != 1 || dir[0] != '/') out.append(dir);
  out.push_back('/');
  out.append(name);
  return out;
}

// A copy on the heap (see kHeapPath). A Location's host path is moved, never
// copied, for the same reason: a copy's buffer fits its length.
std::string HeapCopy(const std::string& path) {
  std::string out;
  out.reserve(std::max(kHeapPath, path.size()));
  out.append(path);
  return out;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string out;
  out.reserve(kHeapPath);
  if (slash == 0 || slash == std::string::npos)
    out.push_back('/');
  else
    out.append(path, 0, slash);
  return out;
}

// Splits a path into components, keeping empty ones out; notes a trailing
// slash on the last.
void Split(const std::string& path, std::deque<std::string>* out, bool* trailing) {
  std::deque<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  *trailing = !path.empty() && path.back() == '/';
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out->push_front(*it);
}

// Paths the host resolves by the calling process (/proc/self, /dev/fd/N,
// /dev/stdin): the sentry's own open() would resolve them for the sentry.
bool ProcessRelative(const std::string& path) {
  return path.compare(0, 5, "/proc") == 0 || path.compare(0, 7, "/dev/fd") == 0 || path.compare(0, 8, "/dev/std") == 0;
}

}  // namespace

Result<void> Vfs::AddMount(const std::string& path, const MakeFilesystem& make, bool anywhere, std::string* error) {
  std::string where = path;
  if (!anywhere) {
    char canonical[PATH_MAX];
    if (realpath(path.c_str(), canonical) == nullptr) {
      *error = path + ": the mount point must be an existing directory";
      return Errno{errno};
    }
    struct stat st;
    if (stat(canonical, &st) != 0 || !S_ISDIR(st.st_mode)) {
      *error = path + ": not a directory";
      return Errno{ENOTDIR};
    }
    where = canonical;
  }
  if (MountAt(where) != nullptr) {
    *error = path + ": mounted twice";
    return Errno{EBUSY};
  }
  auto mount = std::make_unique<Mount>();
  mount->path = where;
  // An anonymous device number, as Linux gives tmpfs and debugfs (major 0).
  mount->fs = make(makedev(0, 0x7c00 + mounts_.size()));
  mounts_.push_back(std::move(mount));
  return {};
}

Result<std::string> Vfs::PathOf(const Mount& mount, InodeRef inode) const {
  // No rename moves a directory meanwhile; each entry list under its lock.
  std::lock_guard rename_lock(mount.fs->rename_mu);
  std::string leaf;
  if (!inode->is_dir()) {  // its dentry
    std::lock_guard lock(inode->mu);
    InodeRef parent = inode->parent.lock();
    if (!parent || inode->name.empty()) return Errno{ENOENT};
    leaf = "/" + inode->name + (inode->unhashed ? " (deleted)" : "");
    inode = std::move(parent);
  }
  std::string path;
  while (inode != mount.fs->root()) {
    InodeRef parent;
    bool removed;
    {
      std::lock_guard lock(inode->mu);
      parent = inode->parent.lock();
      removed = inode->nlink == 0;
    }
    if (!parent || removed) return Errno{ENOENT};
    std::string name;
    {
      std::lock_guard lock(parent->mu);
      for (const auto& [cookie, entry] : parent->entries)
        if (entry.inode == inode) name = entry.name;
    }
    if (name.empty()) return Errno{ENOENT};
    path = "/" + name + path;
    inode = parent;
  }
  return mount.path + path + leaf;
}

bool Vfs::AnyOpened() const {
  for (auto& m : mounts_)
    if (m->served_dev == 0 && m->fs->MayHaveOpenFiles()) return true;
  return false;
}

bool Vfs::AnyServed() const {
  for (auto& m : mounts_)
    if (m->served_dev != 0) return true;
  return false;
}

Mount* Vfs::ServedMountOf(dev_t dev) const {
  for (auto& m : mounts_)
    if (m->served_dev != 0 && m->served_dev == dev) return m.get();
  return nullptr;
}

Mount* Vfs::MountAt(const std::string& canonical) const {
  for (auto& m : mounts_)
    if (SameHostPath(m->path, canonical)) return m.get();
  return nullptr;
}

Mount* Vfs::MountOf(const Filesystem* fs) const {
  for (auto& m : mounts_)
    if (m->fs.get() == fs) return m.get();
  return nullptr;
}

Mount* Vfs::FindByHostIno(ino_t host_ino, InodeRef* inode, bool* path_only) const {
  for (auto& m : mounts_) {
    if (InodeRef i = m->fs->FindByHostIno(host_ino, path_only)) {
      *inode = std::move(i);
      return m.get();
    }
  }
  return nullptr;
}

Result<Location> Vfs::Resolve(Kernel& kernel, TaskState& task, const Credentials& creds, int dirfd,
                              const std::string& path, unsigned flags) {
  Location loc;
  // The walk ends on a directory it stands in ("/", ".", "..", a mount's
  // root): no parent or name to give.
  auto at_directory = [&loc](Mount* m, const InodeRef& d, Location::Last last) {
    loc.mount = m;
    loc.inode = d;
    loc.last = last;
    return loc;
  };
  if (path.empty() && !(flags & kAllowEmpty)) return Errno{ENOENT};
  if (path.size() >= PATH_MAX) return Errno{ENAMETOOLONG};

  // Where the walk starts.
  std::string host;          // the host phase's canonical prefix
  Mount* mount = nullptr;  // non-null: the mount phase
  InodeRef dir;
  const bool scoped = flags & (kBeneath | kInRoot);
  if (scoped && !path.empty() && path[0] == '/' && (flags & kBeneath)) return Errno{EXDEV};
  if (path.empty() || path[0] != '/' || scoped) {
    if (dirfd == AT_FDCWD) {
      Process& process = *task.process;
      std::lock_guard cwd_lock(process.cwd_mu);
      if (process.cwd_dir) {
        mount = process.cwd_mount;
        dir = process.cwd_dir;
      } else {
        // Served: chdir and fchdir run untrapped, so a cached cwd may be stale.
        if (!process.host_cwd_valid || kernel.interception() == Interception::kServed) {
          Result<std::string> cwd = ReadProcLink(task.tid, "cwd");
          if (!cwd) return Errno{ENOENT};
          process.host_cwd = *cwd;
          process.host_cwd_valid = true;
        }
        host = HeapCopy(process.host_cwd);
      }
    } else {
      FileRef file = LookupFd(kernel, task, dirfd);
      if (!file.file) return Errno{file.error};
      if (file.inode) {
        mount = file.mount;
        dir = file.inode;
        if (!path.empty() && !dir->is_dir()) return Errno{ENOTDIR};
      } else {
        // A host fd that is no directory of a path (a pipe, a socket, an
        // anonymous inode): the host answers, with AT_EMPTY_PATH or ENOTDIR.
        if (path.empty()) return loc;
        Result<std::string> target = ReadProcFdLink(task.tid, dirfd);
        if (!target || target->empty() || (*target)[0] != '/') return loc;
        host = HeapCopy(*target);
      }
    }
    if (path.empty()) {  // AT_EMPTY_PATH: the dirfd itself
      if (mount == nullptr) {
        loc.host_path = std::move(host);
        return loc;
      }
      return at_directory(mount, dir, Location::Last::kRoot);
    }
  } else {
    host = "/";
  }
  // The host's cwd may itself lie under a mount point (a guest cannot chdir
  // into a mount of the sentry's on the host, but the mount point directory is real).
  // Only the mount point itself can be: below it the host directory is
  // hidden by the mount and holds nothing of ours.
  if (mount == nullptr) {
    if (Mount* m = MountAt(host)) {
      mount = m;
      dir = m->fs->root();
    }
  }

  // The start, for RESOLVE_BENEATH and RESOLVE_IN_ROOT, and how far below
  // it the walk is.
  const std::string start_host = host;
  Mount* const start_mount = mount;
  const InodeRef start_dir = dir;
  int depth = 0;

  // Fast path for the host's own files (the loader's libraries, ...): if the
  // host resolves the path to somewhere outside every mount without "..",
  // the walk could not have entered one.
  if (mount == nullptr && !scoped && path.find("..") == std::string::npos &&
      !ProcessRelative(path[0] == '/' ? path : Join(host, path))) {
    std::string full = path[0] == '/' ? path : Join(host, path);
    int fd = open(full.c_str(), O_PATH | O_CLOEXEC | ((flags & kFollowLast) ? 0 : O_NOFOLLOW));
    if (fd >= 0) {
      Result<std::string> canonical = ReadOwnFdLink(fd);
      close(fd);
      bool under_mount = !canonical;
      for (auto& m : mounts_)
        if (canonical && (*canonical == m->path || canonical->compare(0, m->path.size() + 1, m->path + "/") == 0))
          under_mount = true;
      if (!under_mount) {
        loc.host_path = *canonical;
        loc.trailing_slash = path.back() == '/';
        return loc;
      }
    }
  }

  std::deque<std::string> parts;
  bool trailing;
  Split(path, &parts, &trailing);
  loc.trailing_slash = trailing;
  int symlinks = 0;
  // A host path reached through names in the sentry's tree: the host's own
  // walk of the guest's path could not get there. (Entering a mount and
  // leaving by ".." at once is the same walk on the host.)
  bool left_mount = false;
  bool named_in_mount = false;
  // An absolute symlink target: the walk goes on from "/" (RESOLVE_IN_ROOT:
  // from the start). Leaving the sentry's tree that way is a host path the
  // host could not have walked.
  auto restart_at_root = [&] {
    if (flags & kInRoot) {
      host = start_host;
      mount = start_mount;
      dir = start_dir;
      depth = 0;
      return;
    }
    if (mount != nullptr) left_mount = true;
    host = "/";
    mount = nullptr;
    dir.reset();
  };
  // A symlink the walk follows (the host's or a mount's): its target goes
  // in front of what is left of the path. 0, or the walk's errno.
  auto follow_link = [&](const std::string& target) -> int {
    if (flags & kNoSymlinks) return ELOOP;
    if (++symlinks > kMaxSymlinks) return ELOOP;
    if (!target.empty() && target[0] == '/') {
      if (flags & kBeneath) return EXDEV;
      if (!(flags & kInRoot) && mount != nullptr && (flags & kNoXdev)) return EXDEV;  // out of the mount
      restart_at_root();
    }
    std::deque<std::string> spliced;
    bool t;
    Split(target, &spliced, &t);
    parts.insert(parts.begin(), spliced.begin(), spliced.end());
    return 0;
  };

  // The last component of the walk, if the path has none (e.g. "/").
  if (parts.empty()) {
    if (mount == nullptr) {
      loc.host_path = std::move(host);
      return loc;
    }
    return at_directory(mount, dir, Location::Last::kRoot);
  }

  while (!parts.empty()) {
    std::string part = std::move(parts.front());
    parts.pop_front();
    const bool last = parts.empty();
    if (part.size() > NAME_MAX) return Errno{ENAMETOOLONG};

    if (mount == nullptr) {  // ---- host phase ----
      if (part == ".") {
        if (last) loc.last = Location::Last::kDot;
        continue;
      }
      if (part == "..") {
        if (depth == 0 && scoped) {
          if (flags & kBeneath) return Errno{EXDEV};
          continue;  // RESOLVE_IN_ROOT: ".." of the root is the root
        }
        if (depth > 0) depth--;
        host = Dirname(host);
        if (last) loc.last = Location::Last::kDotDot;
        continue;
      }
      std::string next = Join(host, part);
      if (Mount* m = MountAt(next)) {
        if (flags & kNoXdev) return Errno{EXDEV};
        mount = m;
        dir = m->fs->root();
        depth++;
        if (last) {
          return at_directory(mount, dir, Location::Last::kRoot);
        }
        continue;
      }
      const bool follow = !last || (flags & kFollowLast) || trailing;
      // /proc's links, as the guest's own: the process (self), and, for
      // the sentry's files, the file itself (as Linux's magic links jump
      // to it, whatever its name).
      if (ProcLink link = ClassifyProcPath(next); link.kind != ProcLink::kNone && follow) {
        const pid_t tgid = task.process->tgid;
        if (link.kind == ProcLink::kSelf || link.kind == ProcLink::kThreadSelf) {
          if (int e = follow_link(ProcSelfTarget(tgid, link.kind == ProcLink::kThreadSelf ? task.tid : 0)))
            return Errno{e};
          continue;
        }
        const bool own = link.pid == tgid && (link.tid == 0 || link.tid == task.tid || link.tid == tgid);
        Mount* to_mount = nullptr;
        InodeRef to_inode;
        if (link.kind == ProcLink::kFd && own) {
          FileRef file = LookupFd(kernel, task, link.fd);
          if (!file.file) return Errno{file.error == EBADF ? ENOENT : file.error};
          to_mount = file.mount;
          to_inode = file.inode;
        } else if (link.kind == ProcLink::kFd) {
          struct stat target;
          bool path_only;
          if (stat(next.c_str(), &target) == 0 && target.st_dev == kernel.memfd_dev())
            to_mount = FindByHostIno(target.st_ino, &to_inode, &path_only);
        } else if (own) {  // cwd
          Process& process = *task.process;
          std::lock_guard cwd_lock(process.cwd_mu);
          to_mount = process.cwd_dir ? process.cwd_mount : nullptr;
          to_inode = process.cwd_dir;
        }
        if (to_mount == nullptr) {
          // A host file: the host follows the link for the guest.
          host = std::move(next);
          for (auto& rest : parts) host = Join(host, rest);
          loc.host_path = std::move(host);
          loc.rerouted = left_mount;
          return loc;
        }
        if (flags & kNoSymlinks) return Errno{ELOOP};
        if (flags & (kNoXdev | kBeneath)) return Errno{EXDEV};
        if (++symlinks > kMaxSymlinks) return Errno{ELOOP};
        mount = to_mount;
        dir = to_inode;
        named_in_mount = true;
        if (last) return at_directory(mount, dir, Location::Last::kRoot);
        continue;
      }
      struct stat st;
      if (lstat(next.c_str(), &st) != 0) {
        // Missing, or not searchable by the sentry: the host's business.
        host = std::move(next);
        for (auto& rest : parts) host = Join(host, rest);
        loc.host_path = std::move(host);
        loc.rerouted = left_mount;
        return loc;
      }
      if (S_ISLNK(st.st_mode) && follow) {
        Result<std::string> target = ReadHostLink(next);
        if (!target) return Errno{target.error()};
        if (int e = follow_link(*target)) return Errno{e};
        continue;
      }
      host = std::move(next);
      depth++;
      if (!last && !S_ISDIR(st.st_mode)) {
        for (auto& rest : parts) host = Join(host, rest);
        loc.host_path = std::move(host);
        loc.rerouted = left_mount;
        return loc;  // the host says ENOTDIR
      }
      continue;
    }

    // ---- mount phase ----
    // One directory's lock at a time, for its permission, its entry and
    // its "..": what the walk returns may change before the caller locks
    // it, and a caller that changes a directory looks its name up again.
    if (!dir->is_dir()) return Errno{ENOTDIR};
    std::unique_lock dir_lock(dir->mu);
    if (int e = Permission(*dir, creds, kMayExec)) return Errno{e};
    if (part == ".") {
      if (last) {
        return at_directory(mount, dir, Location::Last::kDot);
      }
      continue;
    }
    if (part == "..") {
      if (depth == 0 && scoped) {
        if (flags & kBeneath) return Errno{EXDEV};
        if (last) {
          return at_directory(mount, dir, Location::Last::kDotDot);
        }
        continue;  // RESOLVE_IN_ROOT: ".." of the root is the root
      }
      if (depth > 0) depth--;
      if (dir == mount->fs->root()) {  // out of the mount, to the mount point's parent
        if (flags & kNoXdev) return Errno{EXDEV};
        host = Dirname(mount->path);
        Mount* const left = mount;
        mount = nullptr;
        dir.reset();
        left_mount = left_mount || named_in_mount;
        if (last) {
          loc.host_path = std::move(host);
          loc.rerouted = left_mount;
          loc.last = Location::Last::kDotDot;
          loc.dotdot_from = left;
          return loc;
        }
        continue;
      }
      InodeRef parent = dir->parent.lock();
      dir_lock.unlock();
      if (!parent) return Errno{ENOENT};
      dir = parent;
      if (last) {
        return at_directory(mount, dir, Location::Last::kDotDot);
      }
      continue;
    }
    named_in_mount = true;
    InodeRef child = mount->fs->Lookup(*dir, part);
    dir_lock.unlock();
    const bool follow = !last || (flags & kFollowLast) || trailing;
    if (child && child->is_symlink() && follow) {
      if (int e = follow_link(child->target)) return Errno{e};
      std::lock_guard child_lock(child->mu);
      child->atime = CurrentTime();  // touched once followed, as Linux's pick_link
      continue;
    }
    if (last) {
      loc.mount = mount;
      loc.parent = dir;
      loc.name = part;
      loc.inode = child;
      if (child) {
        std::lock_guard child_lock(child->mu);
        mount->fs->SyncSize(*child);
      }
      if (!child && (flags & kMustExist)) return Errno{ENOENT};
      return loc;
    }
    if (!child) return Errno{ENOENT};
    if (!child->is_dir()) return Errno{ENOTDIR};
    dir = child;
    depth++;
  }
  // The path ended in "." or ".." in the host phase, or a symlink's target
  // ended there.
  if (mount != nullptr) {
    loc.mount = mount;
    loc.inode = dir;
    if (loc.last == Location::Last::kNormal) loc.last = Location::Last::kRoot;
    return loc;
  }
  loc.host_path = std::move(host);
  loc.rerouted = left_mount;
  return loc;
}

}  // namespace ukcov::sentry
