// read/write and their positioned and vectored forms, lseek and fsync on a
// tmpfs file (mm/shmem.c shmem_file_read_iter, generic_perform_write,
// shmem_file_llseek; fs/read_write.c for the checks before them).
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "sentry/syscalls/tmpfs_ops.h"
#include "sentry/syscalls/vfs_common.h"

namespace ukcov::sentry::syscalls {
namespace {

constexpr uint64_t kMaxRwCount = 0x7ffff000;  // MAX_RW_COUNT
constexpr int kUioMaxIov = 1024;
constexpr uint64_t kMaxFileSize = 0x7fffffffffffffffull;
constexpr size_t kChunk = 64 << 10;

// The guest's buffers of one call.
Result<std::vector<iovec>> GuestVectors(Syscall& sc, bool vectored, uint64_t address, uint64_t count) {
  std::vector<iovec> v;
  if (!vectored) {
    v.push_back({reinterpret_cast<void*>(address), static_cast<size_t>(std::min(count, kMaxRwCount))});
    return v;
  }
  if (count > kUioMaxIov) return Errno{EINVAL};
  v.resize(count);
  if (count && !sc.memory.Read(address, v.data(), count * sizeof(iovec))) return Errno{EFAULT};
  uint64_t total = 0;
  for (iovec& io : v) {
    if (static_cast<ssize_t>(io.iov_len) < 0) return Errno{EINVAL};
    if (total + io.iov_len > kMaxRwCount) io.iov_len = kMaxRwCount - total;
    total += io.iov_len;
  }
  return v;
}

// Relatime: atime moves when it is not newer than mtime or ctime, or is a
// day old (Linux's default for tmpfs mounts).
void TouchAccessed(tmpfs::Inode& inode) {
  timespec now = tmpfs::Filesystem::Now();
  auto le = [](const timespec& a, const timespec& b) {
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
  };
  if (le(inode.atime, inode.mtime) || le(inode.atime, inode.ctime) || now.tv_sec - inode.atime.tv_sec >= 86400)
    inode.atime = now;
}

}  // namespace

Answer TmpfsReadWrite(Kernel& kernel, Syscall& sc, FileRef& file, bool reading, bool vectored, bool positioned,
                      int64_t position) {
  std::lock_guard lock(kernel.vfs().mu);
  tmpfs::Inode& inode = *file.inode;
  tmpfs::Filesystem& fs = *file.mount->fs;
  const int fl = fcntl(file.description.get(), F_GETFL);
  if (file.path_only) return Answer::Error(EBADF);
  const int access = fl & O_ACCMODE;
  if (reading ? access == O_WRONLY : access == O_RDONLY) return Answer::Error(EBADF);
  if (sc.nr() == SYS_preadv2 || sc.nr() == SYS_pwritev2) {
    const uint64_t known = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND;
    if (sc.arg(5) & ~known) return Answer::Error(EOPNOTSUPP);
  }
  Result<std::vector<iovec>> vectors = GuestVectors(sc, vectored, sc.arg(1), sc.arg(2));
  if (!vectors) return Answer::Error(vectors.error());
  if (inode.is_dir()) return Answer::Error(reading ? EISDIR : EBADF);
  uint64_t pos = positioned ? static_cast<uint64_t>(position)
                            : static_cast<uint64_t>(lseek(file.description.get(), 0, SEEK_CUR));
  const bool append = !reading && ((fl & O_APPEND) || ((sc.nr() == SYS_pwritev2) && (sc.arg(5) & RWF_APPEND)));
  if (append) pos = inode.size;
  uint64_t total = 0;
  for (const iovec& io : *vectors) total += io.iov_len;
  if (total == 0) return Answer::Return(0);
  if (!reading && pos >= kMaxFileSize) return Answer::Error(EFBIG);

  std::vector<char> buf(std::min<uint64_t>(total, kChunk));
  uint64_t done = 0;
  int error = 0;
  for (const iovec& io : *vectors) {
    uint64_t at = 0;
    while (at < io.iov_len) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(io.iov_len - at, buf.size()));
      uint64_t guest = reinterpret_cast<uint64_t>(io.iov_base) + at;
      size_t moved;
      if (reading) {
        Result<size_t> r = fs.Read(inode, pos + done, buf.data(), n);
        if (!r) { error = r.error(); break; }
        if (*r == 0) break;
        if (!sc.memory.Write(guest, buf.data(), *r)) { error = EFAULT; break; }
        moved = *r;
      } else {
        if (!sc.memory.Read(guest, buf.data(), n)) { error = EFAULT; break; }
        Result<size_t> r = fs.Write(inode, pos + done, buf.data(), n);
        if (!r) { error = r.error(); break; }
        moved = *r;
      }
      done += moved;
      at += moved;
      if (moved < n) break;
    }
    if (error || at < io.iov_len) break;
  }
  if (done == 0 && error) return Answer::Error(error);
  if (reading) {
    TouchAccessed(inode);
  } else if (done > 0) {
    TouchModified(inode);
    // A write by someone without CAP_FSETID drops set-user-ID (and
    // set-group-ID when group-executable), as file_remove_privs does.
    auto creds = kernel.CredentialsOf(sc.task);
    if (!creds->Capable(CAP_FSETID)) {
      inode.mode &= ~S_ISUID;
      if ((inode.mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) inode.mode &= ~S_ISGID;
    }
  }
  if (!positioned) lseek(file.description.get(), static_cast<off_t>(pos + done), SEEK_SET);
  return Answer::Return(static_cast<int64_t>(done));
}

Answer TmpfsLseek(Kernel& kernel, Syscall& sc, FileRef& file) {
  std::lock_guard lock(kernel.vfs().mu);
  tmpfs::Inode& inode = *file.inode;
  if (file.path_only) return Answer::Error(EBADF);
  const int64_t offset = static_cast<int64_t>(sc.arg(1));
  const unsigned whence = static_cast<unsigned>(sc.arg(2));
  const int64_t cur = lseek(file.description.get(), 0, SEEK_CUR);
  int64_t target;
  if (inode.is_dir()) {  // libfs offset directories: SEEK_SET and SEEK_CUR only
    if (whence == SEEK_SET) target = offset;
    else if (whence == SEEK_CUR) target = cur + offset;
    else return Answer::Error(EINVAL);
    if (target < 0) return Answer::Error(EINVAL);
  } else if (whence == SEEK_DATA || whence == SEEK_HOLE) {
    if (offset < 0) return Answer::Error(ENXIO);
    Result<uint64_t> r = file.mount->fs->SeekData(inode, static_cast<uint64_t>(offset), static_cast<int>(whence));
    if (!r) return Answer::Error(r.error());
    target = static_cast<int64_t>(*r);
  } else {
    if (whence == SEEK_SET) target = offset;
    else if (whence == SEEK_CUR) target = cur + offset;
    else if (whence == SEEK_END) target = static_cast<int64_t>(inode.size) + offset;
    else return Answer::Error(EINVAL);
    if (target < 0) return Answer::Error(EINVAL);
  }
  lseek(file.description.get(), target, SEEK_SET);
  return Answer::Return(target);
}

Answer TmpfsFsync(Kernel& kernel, FileRef& file) {
  std::lock_guard lock(kernel.vfs().mu);
  if (file.path_only) return Answer::Error(EBADF);
  return Answer::Return(0);  // memory is the storage: nothing to flush
}

}  // namespace ukcov::sentry::syscalls

namespace ukcov::sentry::syscalls {

// fallocate(2) (fs/open.c vfs_fallocate, mm/shmem.c shmem_fallocate).
Answer Fallocate(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (file.kind == FileRef::Kind::kBad) return Answer::Error(file.error);
  if (file.kind == FileRef::Kind::kHost) return Answer::Continue();
  const int mode = static_cast<int>(sc.arg(1));
  const int64_t offset = static_cast<int64_t>(sc.arg(2)), length = static_cast<int64_t>(sc.arg(3));
  if (offset < 0 || length <= 0) return Answer::Error(EINVAL);
  const int known = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE |
                    FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE;
  if (mode & ~known) return Answer::Error(EOPNOTSUPP);
  if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)) return Answer::Error(EOPNOTSUPP);
  if (file.kind == FileRef::Kind::kKcov) return Answer::Error(EOPNOTSUPP);
  if (file.path_only) return Answer::Error(EBADF);
  std::lock_guard lock(kernel.vfs().mu);
  const int fl = fcntl(file.description.get(), F_GETFL);
  if ((fl & O_ACCMODE) == O_RDONLY) return Answer::Error(EBADF);
  if ((mode & FALLOC_FL_PUNCH_HOLE) && (fl & O_APPEND)) return Answer::Error(EPERM);
  if (file.inode->is_dir()) return Answer::Error(EISDIR);
  if (!file.inode->is_reg()) return Answer::Error(ENODEV);
  if (static_cast<uint64_t>(offset) + static_cast<uint64_t>(length) > 0x7fffffffffffffffull) return Answer::Error(EFBIG);
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return Answer::Error(EOPNOTSUPP);  // shmem's set
  Result<void> r = file.mount->fs->Allocate(*file.inode, mode, static_cast<uint64_t>(offset), static_cast<uint64_t>(length));
  if (!r) return Answer::Error(r.error());
  TouchModified(*file.inode);
  return Answer::Return(0);
}

}  // namespace ukcov::sentry::syscalls

namespace ukcov::sentry::syscalls {

// copy_file_range(2), sendfile(2), splice(2): the host moves the bytes
// between the guest's own struct files (a tmpfs file's is on its memfd, so
// the data is right either way). The sentry checks what Linux refuses for
// a tmpfs fd, and notes that the host may change a file's size under it.
Answer CopyRange(Kernel& kernel, Syscall& sc) {
  int in_fd, out_fd;
  switch (sc.nr()) {
    case SYS_sendfile:
      out_fd = sc.fd_arg(0);
      in_fd = sc.fd_arg(1);
      break;
    default:  // copy_file_range, splice: (in, off_in, out, off_out, ...)
      in_fd = sc.fd_arg(0);
      out_fd = sc.fd_arg(2);
      break;
  }
  for (int fd : {in_fd, out_fd}) {
    FileRef file = LookupFd(kernel, sc.task, fd);
    if (file.kind == FileRef::Kind::kBad) return Answer::Error(file.error);
    if (file.kind != FileRef::Kind::kTmpfs) continue;
    if (file.path_only) return Answer::Error(EBADF);
    std::lock_guard lock(kernel.vfs().mu);
    if (file.inode->is_dir()) return Answer::Error(sc.nr() == SYS_copy_file_range ? EISDIR : EINVAL);
    if (fd == out_fd) file.inode->external_io = true;
  }
  return Answer::Continue();
}

}  // namespace ukcov::sentry::syscalls
