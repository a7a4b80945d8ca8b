#include "sentry/fs/tmpfs/tmpfs_file.h"

#include <dirent.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "sentry/credentials.h"
#include "sentry/vfs/limits.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/readdir.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry {
namespace {


constexpr uint64_t kMaxRwCount = 0x7ffff000;  // MAX_RW_COUNT
constexpr int kUioMaxIov = 1024;
constexpr size_t kChunk = 64 << 10;

// The guest's buffers of one call.
// access_ok(): the range lies in the user half of the address space
// (x86-64, 4-level paging: below TASK_SIZE_MAX).
bool AccessOk(uint64_t address, uint64_t length) {
  constexpr uint64_t kTaskSizeMax = (1ull << 47) - 4096;
  return length <= kTaskSizeMax && address <= kTaskSizeMax - length;
}

// The guest's buffers of one call, checked as import_iovec and vfs_read /
// vfs_write check them: a negative length is EINVAL, a range outside user
// space EFAULT (before any byte moves), and the total is clamped to
// MAX_RW_COUNT.
Result<std::vector<iovec>> GuestVectors(Syscall& sc, bool vectored, uint64_t address, uint64_t count) {
  std::vector<iovec> v;
  if (!vectored) {
    if (!AccessOk(address, count)) return Errno{EFAULT};
    v.push_back({reinterpret_cast<void*>(address), static_cast<size_t>(std::min(count, kMaxRwCount))});
    return v;
  }
  if (count > kUioMaxIov) return Errno{EINVAL};
  v.resize(count);
  if (count && !sc.memory.Read(address, v.data(), count * sizeof(iovec))) return Errno{EFAULT};
  for (const iovec& io : v)
    if (static_cast<ssize_t>(io.iov_len) < 0) return Errno{EINVAL};
  uint64_t total = 0;
  for (iovec& io : v) {
    if (!AccessOk(reinterpret_cast<uint64_t>(io.iov_base), io.iov_len)) return Errno{EFAULT};
    if (total + io.iov_len > kMaxRwCount) io.iov_len = kMaxRwCount - total;
    total += io.iov_len;
  }
  return v;
}

}  // namespace

// The inode's lock is taken for each chunk's move between the memfd and the
// sentry's buffer, never across a guest-memory copy: two writes to one file
// are atomic per 64 KiB chunk (Linux: per call), and I/O on different files
// never waits for each other.
Answer TmpfsFile::ReadWrite(Kernel& kernel, Syscall& sc, const IoArgs& io) {
  const bool reading = io.reading, positioned = io.positioned;
  tmpfs::Filesystem& fs = this->fs();
  const int fl = fcntl(description.get(), F_GETFL);
  const int access = fl & O_ACCMODE;
  if (reading ? access == O_WRONLY : access == O_RDONLY) return Answer::Error(EBADF);
  constexpr uint64_t kNoAppend = 0x20;  // RWF_NOAPPEND (6.9)
  if (io.v2) {
    const uint64_t known = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND | kNoAppend;
    if (io.rw_flags & ~known) return Answer::Error(EOPNOTSUPP);
  }
  Result<std::vector<iovec>> vectors = GuestVectors(sc, io.vectored, io.buffer, io.count);
  if (!vectors) return Answer::Error(vectors.error());
  tmpfs::Inode& inode = *this->inode;
  if (inode.is_dir()) return Answer::Error(reading ? EISDIR : EBADF);
  uint64_t pos = positioned ? static_cast<uint64_t>(io.position)
                            : static_cast<uint64_t>(lseek(description.get(), 0, SEEK_CUR));
  uint64_t total = 0;
  for (const iovec& io : *vectors) total += io.iov_len;
  // rw_verify_area: a range past the largest offset.
  if (static_cast<int64_t>(pos) < 0 || static_cast<int64_t>(pos + total) < 0) return Answer::Error(EINVAL);
  const bool append = !reading && !(io.v2 && (io.rw_flags & kNoAppend)) &&
                      ((fl & O_APPEND) || (io.v2 && (io.rw_flags & RWF_APPEND)));
  if (append) {
    std::lock_guard lock(inode.mu);
    pos = inode.size;
  }
  if (total == 0) return Answer::Return(0);
  // generic_write_check_limits: RLIMIT_FSIZE, then the largest file.
  uint64_t budget = total;
  if (!reading) {
    const uint64_t limit = FileSizeLimit(sc.task);
    if (limit != RLIM_INFINITY) {
      if (pos >= limit) return Answer::Error(FileSizeExceeded(sc.task));
      budget = std::min(budget, limit - pos);
    }
    if (pos >= tmpfs::kMaxFileSize) return Answer::Error(EFBIG);
  }

  std::vector<char> buf(std::min<uint64_t>(total, kChunk));
  uint64_t done = 0;
  int error = 0;
  for (const iovec& io : *vectors) {
    uint64_t at = 0;
    while (at < io.iov_len && done < budget) {
      size_t n = static_cast<size_t>(std::min<uint64_t>({io.iov_len - at, buf.size(), budget - done}));
      uint64_t guest = reinterpret_cast<uint64_t>(io.iov_base) + at;
      size_t moved;
      if (reading) {
        Result<size_t> r = Errno{EIO};
        {
          std::lock_guard lock(inode.mu);
          r = fs.Read(inode, pos + done, buf.data(), n);
        }
        if (!r) { error = r.error(); break; }
        if (*r == 0) break;
        // As copy_to_user: the bytes before a page that cannot be written.
        moved = sc.memory.WriteSome(guest, buf.data(), *r);
        if (moved < *r) error = EFAULT;
        n = *r;
      } else {
        // As copy_from_user: what can be read up to the first bad page is
        // written.
        const size_t readable = sc.memory.ReadSome(guest, buf.data(), n);
        if (readable < n) error = EFAULT;
        if (readable == 0) break;
        Result<size_t> r = Errno{EIO};
        {
          std::lock_guard lock(inode.mu);
          r = fs.Write(inode, pos + done, buf.data(), readable);
        }
        if (!r) { error = r.error(); break; }
        moved = *r;
        if (readable < n) n = readable;
      }
      done += moved;
      at += moved;
      if (moved < n) break;
    }
    if (error || at < io.iov_len || done >= budget) break;
  }
  if (done == 0 && error) return Answer::Error(error);
  std::unique_lock lock(inode.mu);
  if (reading) {
    TouchAccessed(inode);
  } else if (done > 0) {
    TouchModified(inode);
    DropSetIds(inode, *kernel.CredentialsOf(sc.task));
  }
  lock.unlock();
  if (!positioned) lseek(description.get(), static_cast<off_t>(pos + done), SEEK_SET);
  return Answer::Return(static_cast<int64_t>(done));
}

Answer TmpfsFile::Seek(Kernel&, Syscall&, int64_t offset, unsigned whence) {
  tmpfs::Inode& inode = *this->inode;
  if (inode.is_dir()) return SeekDirectory(description.get(), offset, whence);
  std::lock_guard lock(inode.mu);
  const int64_t cur = lseek(description.get(), 0, SEEK_CUR);
  int64_t target;
  if (whence == SEEK_DATA || whence == SEEK_HOLE) {
    if (offset < 0) return Answer::Error(ENXIO);
    Result<uint64_t> r = fs().SeekData(inode, static_cast<uint64_t>(offset), static_cast<int>(whence));
    if (!r) return Answer::Error(r.error());
    target = static_cast<int64_t>(*r);
  } else {
    // Past LLONG_MAX (a positive base plus a positive offset) is EINVAL, as
    // Linux's f_pos + offset, which wraps negative, answers.
    bool overflow = false;
    if (whence == SEEK_SET) target = offset;
    else if (whence == SEEK_CUR) overflow = __builtin_add_overflow(cur, offset, &target);
    else if (whence == SEEK_END) overflow = __builtin_add_overflow(static_cast<int64_t>(inode.size), offset, &target);
    else return Answer::Error(EINVAL);
    if (overflow || target < 0) return Answer::Error(EINVAL);
  }
  lseek(description.get(), target, SEEK_SET);
  return Answer::Return(target);
}

Answer TmpfsFile::Fsync(Kernel&, Syscall&) {
  return Answer::Return(0);  // memory is the storage: nothing to flush
}

Answer TmpfsFile::Ioctl(Kernel& kernel, Syscall& sc, unsigned cmd, uint64_t arg) {
  // The inode flags (chattr, lsattr) are the inode's, on a file or a
  // directory (tmpfs::Filesystem::SetInodeFlags).
  if (cmd == FS_IOC_GETFLAGS) {
    int flags;
    {
      std::lock_guard lock(inode->mu);
      flags = tmpfs::Filesystem::InodeFlags(*inode);
    }
    if (!sc.memory.Write(arg, flags)) return Answer::Error(EFAULT);
    return Answer::Return(0);
  }
  if (cmd == FS_IOC_SETFLAGS) {
    int flags;
    if (!sc.memory.Read(arg, &flags, sizeof flags)) return Answer::Error(EFAULT);
    auto creds = kernel.CredentialsOf(sc.task);
    std::lock_guard lock(inode->mu);
    if (Result<void> r = tmpfs::Filesystem::SetInodeFlags(*inode, flags, *creds); !r) return Answer::Error(r.error());
    return Answer::Return(0);
  }
  // A regular file's other ioctls are shmem's, which the host answers on
  // the guest's own struct file on the inode's memfd (same size, same
  // offset). A directory's token is no directory: none of its ioctls.
  if (inode->is_reg()) return Answer::Continue();
  return Answer::Error(ENOTTY);
}

Answer TmpfsFile::Mmap(Kernel&, Syscall&, const MmapArgs&) {
  if (!inode->is_reg()) return Answer::Error(ENODEV);
  // The host maps the guest's own struct file on the inode's memfd: its
  // access-mode checks are Linux's, and the pages are the file's.
  return Answer::Continue();
}

// fs/open.c vfs_fallocate's check of the file's access mode; the rest is
// the filesystem's (tmpfs::Filesystem::Fallocate).
Answer TmpfsFile::Fallocate(Kernel&, Syscall& sc, int mode, int64_t offset, int64_t length) {
  const int fl = fcntl(description.get(), F_GETFL);
  if ((fl & O_ACCMODE) == O_RDONLY) return Answer::Error(EBADF);
  std::lock_guard lock(inode->mu);
  if (Result<void> r = fs().Fallocate(*inode, mode, offset, length, &sc.task); !r) return Answer::Error(r.error());
  return Answer::Return(0);
}

Answer TmpfsFile::Getdents(Kernel&, Syscall& sc, uint64_t buffer, uint64_t count, bool legacy) {
  return ReadDirectory(sc, *inode, description.get(), buffer, count, legacy);
}

// The host moves the bytes between the guest's own struct files (a tmpfs
// file's is on its memfd, so the data is right either way). What Linux
// refuses for a tmpfs fd is refused here, and the host may change a file's
// size under the sentry: noted.
Answer TmpfsFile::CopyRange(Kernel&, Syscall& sc, bool out) {
  if (inode->is_dir()) return Answer::Error(sc.nr() == SYS_copy_file_range ? EISDIR : EINVAL);
  if (out) {
    std::lock_guard lock(inode->mu);
    inode->external_io = true;
  }
  return Answer::Continue();
}

// Most of fcntl is the host's: the guest's fd is a real struct file on the
// inode's memfd, so its status flags and POSIX, OFD and flock locks (all on
// the inode, as Linux keeps them for tmpfs) work natively. What differs is
// what the memfd cannot say: an O_PATH description (a token) and a
// directory (its F_GETFL carries O_DIRECTORY).
Answer TmpfsFile::Fcntl(Kernel& kernel, Syscall& sc, unsigned cmd, uint64_t arg) {
  if (path_only) {
    // What Linux keeps in f_flags for one: O_PATH, and O_NOFOLLOW and
    // O_DIRECTORY as given.
    struct stat st;
    if (fstat(description.get(), &st) != 0) return Answer::Return(O_PATH);
    return Answer::Return(fs().PathFlags(st.st_ino));
  }
  if (cmd == F_GETFL && inode->is_dir()) {
    int fl = fcntl(description.get(), F_GETFL);
    return Answer::Return((fl & ~O_ACCMODE) | O_RDONLY | O_DIRECTORY);
  }
  // setfl: O_DIRECT needs FMODE_CAN_ODIRECT, which shmem gives regular
  // files only (the memfd standing for a directory has it).
  if (cmd == F_SETFL && (arg & O_DIRECT) && !inode->is_reg()) return Answer::Error(EINVAL);
  // O_NOATIME: the file's owner (or CAP_FOWNER) may set it. The memfd's
  // owner is the sentry, so the sentry sets it on the guest's description.
  if (cmd == F_SETFL && (arg & O_NOATIME) && !(fcntl(description.get(), F_GETFL) & O_NOATIME)) {
    {
      std::lock_guard lock(inode->mu);
      if (!OwnerOrCapable(*inode, *kernel.CredentialsOf(sc.task))) return Answer::Error(EPERM);
    }
    if (fcntl(description.get(), F_SETFL, static_cast<int>(arg)) != 0) return Answer::Error(errno);
    return Answer::Return(0);
  }
  // Seals are memfd's, not tmpfs's: a tmpfs file is not sealable.
  if (cmd == F_ADD_SEALS || cmd == F_GET_SEALS) return Answer::Error(EINVAL);
  return Answer::Continue();
}

}  // namespace ukcov::sentry
