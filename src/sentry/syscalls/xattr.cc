// The extended-attribute calls on the sentry's inodes (fs/xattr.c): the
// VFS's permission checks, then the filesystem's handlers
// (Filesystem::XattrSupport) and the inode's simple_xattrs.
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <cstring>
#include <vector>

#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"

namespace ukcov::sentry::syscalls {
namespace {

constexpr size_t kNameMax = 255;      // XATTR_NAME_MAX
constexpr size_t kSizeMax = 65536;    // XATTR_SIZE_MAX, XATTR_LIST_MAX

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// xattr_permission(): 0, or the errno for this access.
int XattrPermission(const Inode& inode, const Credentials& creds, const std::string& name, bool write) {
  if (write && (inode.immutable() || inode.append_only())) return EPERM;
  if (StartsWith(name, "trusted.")) {
    if (!creds.Capable(CAP_SYS_ADMIN)) return write ? EPERM : ENODATA;
    return 0;
  }
  if (StartsWith(name, "user.")) {
    if (!inode.is_reg() && !inode.is_dir()) return write ? EPERM : ENODATA;
    if (write && inode.is_dir() && (inode.mode & S_ISVTX) && !OwnerOrCapable(inode, creds)) return EPERM;
  }
  return Permission(inode, creds, write ? kMayWrite : kMayRead);
}

struct Target {
  Mount* mount = nullptr;
  InodeRef inode;
  std::string host_path;  // a host path reached through a mount (no inode)
};

// The inode of the call: by path (arg 0, following symlinks unless `l`),
// or by fd. 0 and the target, a -errno to answer, or 1: the host's.
int Find(Kernel& kernel, Syscall& sc, bool by_fd, bool follow, Target* target, const Credentials& creds) {
  if (by_fd) {
    FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
    if (!file.file) return -file.error;
    if (!file.inode) return 1;
    if (file.path_only) return -EBADF;
    target->mount = file.mount;
    target->inode = file.inode;
    return 0;
  }
  Result<std::string> path = ReadPath(sc, sc.arg(0));
  if (!path) return -path.error();
  Result<Location> loc = kernel.vfs().Resolve(kernel, sc.task, creds, AT_FDCWD, *path, kMustExist | (follow ? kFollowLast : 0u));
  if (!loc) return -loc.error();
  if (loc->on_host()) {
    if (!loc->rerouted) return 1;
    target->host_path = std::move(loc->host_path);  // moved: vfs.cc's kHeapPath
    return 0;
  }
  if (loc->trailing_slash && !loc->inode->is_dir()) return -ENOTDIR;
  target->mount = loc->mount;
  target->inode = loc->inode;
  return 0;
}

Result<std::string> ReadName(Syscall& sc, uint64_t address) {
  Result<std::string> name = sc.memory.ReadString(address, kNameMax + 1);
  if (!name) return Errno{name.error() == ENAMETOOLONG ? ERANGE : name.error()};
  if (name->empty()) return Errno{ERANGE};
  return name;
}

// The call on a host path the walk reached through a mount, made by the
// sentry with the task's credentials (the host could not walk the guest's
// path itself).
Answer OnHost(Syscall& sc, const Credentials& creds, const std::string& path, bool follow, const std::string& name,
              const std::string& value, bool set, bool get, bool list) {
  AsGuest as_guest(creds);
  const char* p = path.c_str();
  if (set) {
    int r = follow ? setxattr(p, name.c_str(), value.data(), value.size(), static_cast<int>(sc.arg(4)))
                   : lsetxattr(p, name.c_str(), value.data(), value.size(), static_cast<int>(sc.arg(4)));
    return r == 0 ? Answer::Return(0) : Answer::Error(errno);
  }
  if (get || list) {
    const size_t size = std::min<uint64_t>(list ? sc.arg(2) : sc.arg(3), kSizeMax);
    std::vector<char> buf(size);
    ssize_t n;
    if (list)
      n = follow ? listxattr(p, buf.data(), size) : llistxattr(p, buf.data(), size);
    else
      n = follow ? getxattr(p, name.c_str(), buf.data(), size) : lgetxattr(p, name.c_str(), buf.data(), size);
    if (n < 0) return Answer::Error(errno);
    if (size != 0 && n > 0 && !sc.memory.Write(list ? sc.arg(1) : sc.arg(2), buf.data(), static_cast<size_t>(n)))
      return Answer::Error(EFAULT);
    return Answer::Return(n);
  }
  int r = follow ? removexattr(p, name.c_str()) : lremovexattr(p, name.c_str());
  return r == 0 ? Answer::Return(0) : Answer::Error(errno);
}

}  // namespace

Answer Xattr(Kernel& kernel, Syscall& sc) {
  const int nr = sc.nr();
  const bool by_fd = nr == SYS_fsetxattr || nr == SYS_fgetxattr || nr == SYS_flistxattr || nr == SYS_fremovexattr;
  const bool follow = !(nr == SYS_lsetxattr || nr == SYS_lgetxattr || nr == SYS_llistxattr || nr == SYS_lremovexattr);
  const bool set = nr == SYS_setxattr || nr == SYS_lsetxattr || nr == SYS_fsetxattr;
  const bool get = nr == SYS_getxattr || nr == SYS_lgetxattr || nr == SYS_fgetxattr;
  const bool list = nr == SYS_listxattr || nr == SYS_llistxattr || nr == SYS_flistxattr;
  // The arguments are copied in before the path is looked up.
  std::string name, value;
  if (!list) {
    const uint64_t name_address = sc.arg(1);
    if (set && (sc.arg(4) & ~static_cast<uint64_t>(XATTR_CREATE | XATTR_REPLACE))) return Answer::Error(EINVAL);
    Result<std::string> n = ReadName(sc, name_address);
    if (!n) return Answer::Error(n.error());
    name = std::move(*n);
    if (set) {
      const uint64_t size = sc.arg(3);
      if (size > kSizeMax) return Answer::Error(E2BIG);
      value.resize(size);
      if (size && !sc.memory.Read(sc.arg(2), value.data(), size)) return Answer::Error(EFAULT);
    }
  }
  auto creds = kernel.CredentialsOf(sc.task);
  Target target;
  int found = Find(kernel, sc, by_fd, follow, &target, *creds);
  if (found == 1) return Answer::Continue();
  if (found < 0) return Answer::Error(-found);
  if (!target.inode) return OnHost(sc, *creds, target.host_path, follow, name, value, set, get, list);
  Inode& inode = *target.inode;
  // What goes back to the guest is copied out under the inode's lock and
  // written to the guest after it.
  std::unique_lock lock(inode.mu);

  if (list) {
    uint64_t size = sc.arg(2);
    std::string names;
    for (const auto& [name, value] : inode.xattrs)
      if (!StartsWith(name, "trusted.") || creds->Capable(CAP_SYS_ADMIN)) names += name + '\0';
    lock.unlock();
    if (size == 0) return Answer::Return(static_cast<int64_t>(names.size()));
    if (size > kSizeMax) size = kSizeMax;
    if (names.size() > size) return Answer::Error(names.size() > kSizeMax ? E2BIG : ERANGE);
    if (!names.empty() && !sc.memory.Write(sc.arg(1), names.data(), names.size())) return Answer::Error(EFAULT);
    return Answer::Return(static_cast<int64_t>(names.size()));
  }

  if (set) {
    const uint64_t flags = sc.arg(4);
    if (int e = XattrPermission(inode, *creds, name, true)) return Answer::Error(e);
    if (int e = inode.fs->XattrSupport(name, true)) return Answer::Error(e);
    auto it = inode.xattrs.find(name);
    if ((flags & XATTR_CREATE) && it != inode.xattrs.end()) return Answer::Error(EEXIST);
    if ((flags & XATTR_REPLACE) && it == inode.xattrs.end()) return Answer::Error(ENODATA);
    inode.xattrs[name] = std::move(value);
    TouchChanged(inode);
    return Answer::Return(0);
  }
  if (get) {
    uint64_t size = sc.arg(3);
    if (int e = XattrPermission(inode, *creds, name, false)) return Answer::Error(e);
    if (int e = inode.fs->XattrSupport(name, false)) return Answer::Error(e);
    auto it = inode.xattrs.find(name);
    if (it == inode.xattrs.end()) return Answer::Error(ENODATA);
    const std::string found_value = it->second;
    lock.unlock();
    if (size == 0) return Answer::Return(static_cast<int64_t>(found_value.size()));
    if (size > kSizeMax) size = kSizeMax;
    if (found_value.size() > size) return Answer::Error(ERANGE);
    if (!found_value.empty() && !sc.memory.Write(sc.arg(2), found_value.data(), found_value.size()))
      return Answer::Error(EFAULT);
    return Answer::Return(static_cast<int64_t>(found_value.size()));
  }
  // remove
  if (int e = XattrPermission(inode, *creds, name, true)) return Answer::Error(e);
  if (int e = inode.fs->XattrSupport(name, true)) return Answer::Error(e);
  if (inode.xattrs.erase(name) == 0) return Answer::Error(ENODATA);
  TouchChanged(inode);
  return Answer::Return(0);
}

}  // namespace ukcov::sentry::syscalls
