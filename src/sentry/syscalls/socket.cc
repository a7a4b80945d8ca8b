// bind(2) and connect(2) of AF_UNIX sockets to paths in a mount of the
// sentry's (net/unix/af_unix.c unix_bind_bsd, unix_find_bsd). The socket
// inode is the filesystem's; it binds the guest's socket on the host where
// a connect by the name finds it (Filesystem::BindSocket, SocketPath).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"

namespace ukcov::sentry::syscalls {
namespace {

// The pathname of an AF_UNIX address, or false (another family, an
// abstract or unnamed address, an unreadable one: the host's to answer).
bool UnixPath(Syscall& sc, std::string* path) {
  const uint64_t length = static_cast<uint32_t>(sc.arg(2));
  if (length <= offsetof(sockaddr_un, sun_path) || length > sizeof(sockaddr_un)) return false;
  sockaddr_un addr{};
  if (!sc.memory.Read(sc.arg(1), &addr, length)) return false;
  if (addr.sun_family != AF_UNIX || addr.sun_path[0] == '\0') return false;
  const size_t max = length - offsetof(sockaddr_un, sun_path);
  *path = std::string(addr.sun_path, strnlen(addr.sun_path, max));
  return true;
}

// The guest's socket, borrowed from the thread's table (the same open file
// description).
Result<UniqueFd> Borrow(Syscall& sc) { return BorrowFd(sc.task, sc.fd_arg(0)); }

sockaddr_un HostAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return addr;
}

}  // namespace

Answer Bind(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  std::string path;
  if (!UnixPath(sc, &path)) return Answer::Continue();
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, AT_FDCWD, path, 0);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host()) {
    if (!loc->rerouted) return Answer::Continue();
    Result<UniqueFd> socket = Borrow(sc);
    if (!socket) return Answer::Error(socket.error());
    sockaddr_un addr = HostAddress(loc->host_path);
    AsGuest as_guest(*creds);
    return bind(socket->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? Answer::Return(0)
                                                                                     : Answer::Error(errno);
  }
  if (loc->last != Location::Last::kNormal) return Answer::Error(EADDRINUSE);
  auto lock = LockParent(*loc);
  if (loc->inode) return Answer::Error(EADDRINUSE);
  if (int e = Permission(*loc->parent, *creds, kMayWrite | kMayExec)) return Answer::Error(e);
  Result<UniqueFd> socket = Borrow(sc);
  if (!socket) return Answer::Error(socket.error());
  Result<InodeRef> made =
      loc->mount->fs->BindSocket(loc->parent, loc->name, 0777 & ~creds->umask, *creds, socket->get());
  if (!made) return Answer::Error(made.error());
  return Answer::Return(0);
}

Answer Connect(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  std::string path;
  if (!UnixPath(sc, &path)) return Answer::Continue();
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, AT_FDCWD, path, kMustExist | kFollowLast);
  if (!loc) return Answer::Error(loc.error());
  std::string host_path;
  if (loc->on_host()) {
    if (!loc->rerouted) return Answer::Continue();
    host_path = std::move(loc->host_path);  // moved: vfs.cc's kHeapPath
  } else {
    if (!loc->inode->is_socket()) return Answer::Error(ECONNREFUSED);
    {
      std::lock_guard lock(loc->inode->mu);
      if (int e = Permission(*loc->inode, *creds, kMayWrite)) return Answer::Error(e);
    }
    Result<std::string> p = loc->mount->fs->SocketPath(*loc->inode);
    if (!p) return Answer::Error(p.error());
    host_path = std::move(*p);
  }
  Result<UniqueFd> socket = Borrow(sc);
  if (!socket) return Answer::Error(socket.error());
  sockaddr_un addr = HostAddress(host_path);
  AsGuest as_guest(*creds);
  // A socket made by mknod has no listener behind it: ECONNREFUSED.
  return connect(socket->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? Answer::Return(0)
                                                                                      : Answer::Error(errno == ENOENT ? ECONNREFUSED : errno);
}

}  // namespace ukcov::sentry::syscalls
