#include "sentry/fs/tmpfs/tmpfs_file.h"

#include <dirent.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "sentry/credentials.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry {
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


// The offset of a directory read to its end: no cookie is above it.
constexpr int64_t kEndOfDirectory = INT32_MAX;

// What fcntl may do on an O_PATH description (fs/fcntl.c check_fcntl_cmd).
bool AllowedOnPath(unsigned cmd) {
  return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_GETFD || cmd == F_SETFD || cmd == F_GETFL;
}

}  // namespace

Answer TmpfsFile::ReadWrite(Kernel& kernel, Syscall& sc, const IoArgs& io) {
  std::lock_guard lock(kernel.vfs().mu);
  const bool reading = io.reading, positioned = io.positioned;
  tmpfs::Filesystem& fs = *mount->fs;
  const int fl = fcntl(description.get(), F_GETFL);
  const int access = fl & O_ACCMODE;
  if (reading ? access == O_WRONLY : access == O_RDONLY) return Answer::Error(EBADF);
  if (io.v2) {
    const uint64_t known = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND;
    if (io.rw_flags & ~known) return Answer::Error(EOPNOTSUPP);
  }
  Result<std::vector<iovec>> vectors = GuestVectors(sc, io.vectored, io.buffer, io.count);
  if (!vectors) return Answer::Error(vectors.error());
  tmpfs::Inode& inode = *this->inode;
  if (inode.is_dir()) return Answer::Error(reading ? EISDIR : EBADF);
  uint64_t pos = positioned ? static_cast<uint64_t>(io.position)
                            : static_cast<uint64_t>(lseek(description.get(), 0, SEEK_CUR));
  const bool append = !reading && ((fl & O_APPEND) || (io.v2 && (io.rw_flags & RWF_APPEND)));
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
    tmpfs::TouchModified(inode);
    // A write by someone without CAP_FSETID drops set-user-ID (and
    // set-group-ID when group-executable), as file_remove_privs does.
    auto creds = kernel.CredentialsOf(sc.task);
    if (!creds->Capable(CAP_FSETID)) {
      inode.mode &= ~S_ISUID;
      if ((inode.mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) inode.mode &= ~S_ISGID;
    }
  }
  if (!positioned) lseek(description.get(), static_cast<off_t>(pos + done), SEEK_SET);
  return Answer::Return(static_cast<int64_t>(done));
}

Answer TmpfsFile::Seek(Kernel& kernel, Syscall&, int64_t offset, unsigned whence) {
  std::lock_guard lock(kernel.vfs().mu);
  tmpfs::Inode& inode = *this->inode;
  const int64_t cur = lseek(description.get(), 0, SEEK_CUR);
  int64_t target;
  if (inode.is_dir()) {  // libfs offset directories: SEEK_SET and SEEK_CUR only
    if (whence == SEEK_SET) target = offset;
    else if (whence == SEEK_CUR) target = cur + offset;
    else return Answer::Error(EINVAL);
    if (target < 0) return Answer::Error(EINVAL);
  } else if (whence == SEEK_DATA || whence == SEEK_HOLE) {
    if (offset < 0) return Answer::Error(ENXIO);
    Result<uint64_t> r = mount->fs->SeekData(inode, static_cast<uint64_t>(offset), static_cast<int>(whence));
    if (!r) return Answer::Error(r.error());
    target = static_cast<int64_t>(*r);
  } else {
    if (whence == SEEK_SET) target = offset;
    else if (whence == SEEK_CUR) target = cur + offset;
    else if (whence == SEEK_END) target = static_cast<int64_t>(inode.size) + offset;
    else return Answer::Error(EINVAL);
    if (target < 0) return Answer::Error(EINVAL);
  }
  lseek(description.get(), target, SEEK_SET);
  return Answer::Return(target);
}

Answer TmpfsFile::Fsync(Kernel& kernel, Syscall&) {
  std::lock_guard lock(kernel.vfs().mu);
  return Answer::Return(0);  // memory is the storage: nothing to flush
}

Answer TmpfsFile::Ioctl(Kernel& kernel, Syscall&, unsigned, uint64_t) {
  // A regular file's ioctls are shmem's, which the host answers on the
  // guest's own struct file on the inode's memfd (same size, same offset).
  // A directory's token is no directory: none of its ioctls.
  std::lock_guard lock(kernel.vfs().mu);
  if (inode->is_reg()) return Answer::Continue();
  return Answer::Error(ENOTTY);
}

Answer TmpfsFile::Mmap(Kernel& kernel, Syscall&, const MmapArgs&) {
  std::lock_guard lock(kernel.vfs().mu);
  if (!inode->is_reg()) return Answer::Error(ENODEV);
  // The host maps the guest's own struct file on the inode's memfd: its
  // access-mode checks are Linux's, and the pages are the file's.
  return Answer::Continue();
}

// fs/open.c vfs_fallocate past its generic checks, mm/shmem.c shmem_fallocate.
Answer TmpfsFile::Fallocate(Kernel& kernel, Syscall&, int mode, int64_t offset, int64_t length) {
  std::lock_guard lock(kernel.vfs().mu);
  const int fl = fcntl(description.get(), F_GETFL);
  if ((fl & O_ACCMODE) == O_RDONLY) return Answer::Error(EBADF);
  if ((mode & FALLOC_FL_PUNCH_HOLE) && (fl & O_APPEND)) return Answer::Error(EPERM);
  if (inode->is_dir()) return Answer::Error(EISDIR);
  if (!inode->is_reg()) return Answer::Error(ENODEV);
  if (static_cast<uint64_t>(offset) + static_cast<uint64_t>(length) > 0x7fffffffffffffffull) return Answer::Error(EFBIG);
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return Answer::Error(EOPNOTSUPP);  // shmem's set
  Result<void> r = mount->fs->Allocate(*inode, mode, static_cast<uint64_t>(offset), static_cast<uint64_t>(length));
  if (!r) return Answer::Error(r.error());
  tmpfs::TouchModified(*inode);
  return Answer::Return(0);
}

Answer TmpfsFile::Getdents(Kernel& kernel, Syscall& sc, uint64_t buffer, uint64_t count, bool legacy) {
  std::lock_guard lock(kernel.vfs().mu);
  tmpfs::Inode& dir = *inode;
  if (!dir.is_dir()) return Answer::Error(ENOTDIR);
  int64_t pos = lseek(description.get(), 0, SEEK_CUR);
  std::vector<char> out;
  auto emit = [&](uint64_t ino, int64_t next, unsigned char type, const std::string& name) {
    // linux_dirent64: ino, off, reclen, type, name; linux_dirent: ino, off,
    // reclen, name, then a pad byte and the type in the record's last byte.
    size_t header = legacy ? 18 : 19;
    size_t reclen = (header + name.size() + 1 + (legacy ? 1 : 0) + 7) & ~size_t{7};
    if (out.size() + reclen > count) return false;
    size_t at = out.size();
    out.resize(at + reclen, 0);
    uint64_t off = static_cast<uint64_t>(next);
    std::memcpy(&out[at], &ino, 8);
    std::memcpy(&out[at + 8], &off, 8);
    uint16_t r = static_cast<uint16_t>(reclen);
    std::memcpy(&out[at + 16], &r, 2);
    if (legacy) {
      std::memcpy(&out[at + 18], name.c_str(), name.size() + 1);
      out[at + reclen - 1] = static_cast<char>(type);
    } else {
      out[at + 18] = static_cast<char>(type);
      std::memcpy(&out[at + 19], name.c_str(), name.size() + 1);
    }
    return true;
  };
  auto type_of = [](const tmpfs::Inode& i) -> unsigned char {
    switch (i.mode & S_IFMT) {
      case S_IFDIR: return DT_DIR;
      case S_IFLNK: return DT_LNK;
      case S_IFIFO: return DT_FIFO;
      case S_IFSOCK: return DT_SOCK;
      case S_IFCHR: return DT_CHR;
      case S_IFBLK: return DT_BLK;
      default: return DT_REG;
    }
  };
  bool full = false;
  if (pos == 0 && dir.nlink > 0) {
    if (emit(dir.ino, 1, DT_DIR, ".")) pos = 1; else full = true;
  }
  // Past "..", the offset is the first cookie not to return: entries made
  // from then on wait for a rewind, as Linux's tmpfs does.
  if (!full && pos == 1 && dir.nlink > 0) {
    tmpfs::InodeRef parent = dir.parent.lock();
    const int64_t cap = static_cast<int64_t>(dir.next_cookie);
    if (emit(parent ? parent->ino : dir.ino, cap, DT_DIR, "..")) pos = cap; else full = true;
  }
  if (pos == 2) pos = static_cast<int64_t>(dir.next_cookie);
  // Newest first, as Linux's tmpfs lists (its dentries' child list); an
  // offset past ".." is the cookie of the last entry returned, and the walk
  // goes on with older ones: entries made since are not returned, removed
  // ones are skipped, the rest come once.
  if (!full && pos >= 2 && pos < kEndOfDirectory && dir.nlink > 0) {
    auto it = dir.entries.lower_bound(static_cast<uint64_t>(pos));
    while (it != dir.entries.begin()) {
      --it;
      if (!emit(it->second.inode->ino, static_cast<int64_t>(it->first), type_of(*it->second.inode), it->second.name)) {
        full = true;
        break;
      }
      pos = static_cast<int64_t>(it->first);
    }
    if (!full) pos = kEndOfDirectory;
  }
  if (out.empty() && full) return Answer::Error(EINVAL);  // not even one entry fits
  if (!out.empty() && !sc.memory.Write(buffer, out.data(), out.size())) return Answer::Error(EFAULT);
  lseek(description.get(), pos, SEEK_SET);
  dir.atime = tmpfs::Filesystem::Now();
  return Answer::Return(static_cast<int64_t>(out.size()));
}

// The host moves the bytes between the guest's own struct files (a tmpfs
// file's is on its memfd, so the data is right either way). What Linux
// refuses for a tmpfs fd is refused here, and the host may change a file's
// size under the sentry: noted.
Answer TmpfsFile::CopyRange(Kernel& kernel, Syscall& sc, bool out) {
  std::lock_guard lock(kernel.vfs().mu);
  if (inode->is_dir()) return Answer::Error(sc.nr() == SYS_copy_file_range ? EISDIR : EINVAL);
  if (out) inode->external_io = true;
  return Answer::Continue();
}

// Most of fcntl is the host's: the guest's fd is a real struct file on the
// inode's memfd, so its status flags and POSIX, OFD and flock locks (all on
// the inode, as Linux keeps them for tmpfs) work natively. What differs is
// what the memfd cannot say: an O_PATH description (a token) and a
// directory (its F_GETFL carries O_DIRECTORY).
Answer TmpfsFile::Fcntl(Kernel& kernel, Syscall&, unsigned cmd, uint64_t) {
  std::lock_guard lock(kernel.vfs().mu);
  if (path_only) {
    if (!AllowedOnPath(cmd)) return Answer::Error(EBADF);
    return Answer::Return(O_PATH);  // what Linux keeps in f_flags for one
  }
  if (cmd == F_GETFL && inode->is_dir()) {
    int fl = fcntl(description.get(), F_GETFL);
    return Answer::Return((fl & ~O_ACCMODE) | O_RDONLY | O_DIRECTORY);
  }
  // Seals are memfd's, not tmpfs's: a tmpfs file is not sealable.
  if (cmd == F_ADD_SEALS || cmd == F_GET_SEALS) return Answer::Error(EINVAL);
  return Answer::Continue();
}

Answer WriteTmpfsStatfs(Syscall& sc, const Mount& mount, uint64_t address) {
  tmpfs::StatFs s = mount.fs->statfs();
  struct statfs out;
  std::memset(&out, 0, sizeof out);
  out.f_type = TMPFS_MAGIC;
  out.f_bsize = 4096;
  out.f_frsize = 4096;
  out.f_namelen = 255;
  out.f_blocks = s.blocks;
  out.f_bfree = out.f_bavail = s.bfree;
  out.f_files = s.files;
  out.f_ffree = s.ffree;
  const dev_t dev = mount.fs->dev();
  out.f_fsid = {{static_cast<int>(major(dev) << 20 | minor(dev)), 0}};
  out.f_flags = 0x0020 | 0x1000;  // ST_VALID | ST_RELATIME: this mount's flags
  if (!sc.memory.Write(address, out)) return Answer::Error(EFAULT);
  return Answer::Return(0);
}


Answer TmpfsFile::Statfs(Kernel& kernel, Syscall& sc, uint64_t address) {
  std::lock_guard lock(kernel.vfs().mu);
  return WriteTmpfsStatfs(sc, *mount, address);
}

}  // namespace ukcov::sentry
