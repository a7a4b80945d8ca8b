#include "sentry/fs/tmpfs/tmpfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "sentry/proc_files.h"
#include "sentry/credentials.h"
#include "sentry/fs/tmpfs/tmpfs_file.h"
#include "sentry/vfs/limits.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry::tmpfs {
namespace {

constexpr uint64_t kPage = 4096;
// The host's RAM in pages (totalram_pages()).
uint64_t RamPages() {
  struct sysinfo info;
  if (sysinfo(&info) != 0) return 1u << 20;
  return static_cast<uint64_t>(info.totalram) * info.mem_unit / kPage;
}

Result<uint64_t> ParseSize(const std::string& value, bool percent_ok) {
  // Digits first: strtoull would take "-1" as the largest number.
  if (value.empty() || !std::isdigit(static_cast<unsigned char>(value[0]))) return Errno{EINVAL};
  char* end;
  errno = 0;
  unsigned long long n = std::strtoull(value.c_str(), &end, 10);
  if (errno != 0 || end == value.c_str()) return Errno{EINVAL};
  std::string suffix(end);
  uint64_t mult = 1;
  if (suffix == "k" || suffix == "K") mult = 1ull << 10;
  else if (suffix == "m" || suffix == "M") mult = 1ull << 20;
  else if (suffix == "g" || suffix == "G") mult = 1ull << 30;
  else if (suffix == "%" && percent_ok) {
    // shmem_parse_one: (N << PAGE_SHIFT) * totalram_pages / 100 bytes,
    // rounded up to pages at mount.
    if (n > (UINT64_MAX / kPage) / RamPages()) return Errno{EINVAL};
    return n * kPage * RamPages() / 100;
  } else if (!suffix.empty()) return Errno{EINVAL};
  if (n > UINT64_MAX / mult) return Errno{EINVAL};
  return n * mult;
}

}  // namespace

Result<Options> ParseOptions(const std::string& text, std::string* error) {
  Options o;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    std::string item = text.substr(i, j - i);
    i = j + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    // Numbers start with a digit: strtoul would take "-1" as the largest.
    const bool leading_digit = !value.empty() && std::isdigit(static_cast<unsigned char>(value[0]));
    Result<uint64_t> n = Errno{EINVAL};
    if (key == "size") {
      if ((n = ParseSize(value, true))) o.size_bytes = *n;
    } else if (key == "nr_inodes") {
      if ((n = ParseSize(value, false))) o.nr_inodes = *n;
    } else if (key == "mode") {
      char* end;
      unsigned long m = std::strtoul(value.c_str(), &end, 8);
      if (leading_digit && *end == 0 && m <= 07777) {
        o.mode = static_cast<mode_t>(m);
        n = 0;
      }
    } else if (key == "uid" || key == "gid") {
      char* end;
      unsigned long v = std::strtoul(value.c_str(), &end, 10);
      if (leading_digit && *end == 0 && v < 0xffffffffUL) {
        (key == "uid" ? o.uid : o.gid) = static_cast<uid_t>(v);
        n = 0;
      }
    } else {
      *error = "unknown tmpfs option '" + key + "' (size, nr_inodes, mode, uid, gid)";
      return Errno{EINVAL};
    }
    if (!n) {
      *error = "bad value for tmpfs option '" + key + "': '" + value + "'";
      return Errno{EINVAL};
    }
  }
  return o;
}

Result<void> MountTmpfs(Vfs& vfs, const std::string& path, const Options& options, std::string* error) {
  char canonical[PATH_MAX];
  if (realpath(path.c_str(), canonical) != nullptr && std::string(canonical) == "/") {
    // Everything the guest runs would be under it, empty: not even its
    // program and libc could be loaded.
    *error = "--tmpfs " + path + ": the root directory cannot be a mount point (the guest's programs are there)";
    return Errno{EBUSY};
  }
  Result<void> r = vfs.AddMount(
      path, [&options](dev_t dev) { return std::make_unique<Filesystem>(options, dev); }, false, error);
  if (!r) *error = "--tmpfs " + *error;
  return r;
}

Filesystem::Filesystem(const Options& options, dev_t dev)
    : sentry::Filesystem(dev),
      options_(options),
      // 0 (no limit) is counted as never reached.
      max_inodes_(!options.nr_inodes ? RamPages() / 2 : *options.nr_inodes ? *options.nr_inodes : UINT64_MAX),
      max_blocks_(options.size_bytes ? (*options.size_bytes + kPage - 1) / kPage : RamPages() / 2),
      inotify_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  root_ = std::make_shared<Inode>(this);
  root_->ino = 1;
  root_->mode = S_IFDIR | options.mode;
  root_->type = S_IFDIR;
  root_->uid = options.uid;
  root_->gid = options.gid;
  root_->nlink = 2;
  root_->atime = root_->mtime = root_->ctime = root_->btime = CurrentTime();
  used_inodes_ = 1;
}

Filesystem::~Filesystem() {
  if (stand_in_dir_.empty()) return;
  // Every stand-in left (named, or unlinked but still open), then the directory.
  if (DIR* d = opendir(stand_in_dir_.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
  }
  rmdir(stand_in_dir_.c_str());
}

Result<UniqueFd> Filesystem::OpenFifo(Inode& inode, int flags) {
  Result<std::string> stand_in = StandInPath(inode);
  if (!stand_in) return Errno{stand_in.error()};
  const std::string& path = *stand_in;
  if (mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST) return Errno{ENOMEM};
  const int access = flags & O_ACCMODE;
  UniqueFd fd(open(path.c_str(), access | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return Errno{errno};
  if (!(flags & O_NONBLOCK)) fcntl(fd.get(), F_SETFL, fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return fd;
}

uint64_t Filesystem::BlocksOf(uint64_t bytes) const { return (bytes + kPage - 1) / kPage; }

void Filesystem::AccountBlocks(const struct stat& before, const struct stat& after) {
  std::lock_guard lock(usage_mu_);
  AccountBlocksLocked(before, after);
}

void Filesystem::AccountBlocksLocked(const struct stat& before, const struct stat& after) {
  const int64_t delta = (static_cast<int64_t>(after.st_blocks) - static_cast<int64_t>(before.st_blocks)) / 8;
  used_blocks_ = delta < 0 && static_cast<uint64_t>(-delta) > used_blocks_ ? 0 : used_blocks_ + static_cast<uint64_t>(delta);
}

void Filesystem::SyncSize(sentry::Inode& vfs_inode) {
  Inode& inode = Of(vfs_inode);
  if (!inode.external_io || !inode.memfd) return;
  struct stat st;
  if (fstat(inode.memfd.get(), &st) != 0) return;
  if (static_cast<uint64_t>(st.st_size) != inode.size) {
    inode.size = static_cast<uint64_t>(st.st_size);
    inode.mtime = inode.ctime = CurrentTime();
  }
}

Result<InodeRef> Filesystem::NewInode(mode_t mode, const Credentials& creds, const sentry::Inode* dir) {
  if (Result<void> room = ReserveInode(dir); !room) return Errno{room.error()};
  auto inode = std::make_shared<Inode>(this);
  {
    std::lock_guard lock(usage_mu_);
    inode->ino = next_ino_++;
  }
  // mode_strip_sgid: an executable set-group-ID file made in a set-group-ID
  // directory of a group the maker is not in (without CAP_FSETID) loses it.
  if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && !S_ISDIR(mode) && dir != nullptr &&
      (dir->mode & S_ISGID) && !creds.InGroup(dir->gid) && !creds.Capable(CAP_FSETID))
    mode &= ~S_ISGID;
  inode->mode = mode;
  inode->type = mode & S_IFMT;
  inode->uid = creds.fsuid;
  inode->gid = creds.fsgid;
  // shmem: a directory's nodump and noatime pass to what is made in it.
  if (dir != nullptr) inode->flags = dir->flags & (FS_NODUMP_FL | FS_NOATIME_FL);
  // A setgid directory gives its group, and setgid to subdirectories.
  if (dir != nullptr && (dir->mode & S_ISGID)) {
    inode->gid = dir->gid;
    if (S_ISDIR(mode)) inode->mode |= S_ISGID;
  }
  inode->atime = inode->mtime = inode->ctime = inode->btime = CurrentTime();
  if (S_ISREG(mode)) {
    if (Result<void> r = EnsureMemfd(*inode); !r) {
      std::lock_guard lock(usage_mu_);
      used_inodes_--;
      return Errno{r.error()};
    }
  }
  return inode;
}

Result<sentry::InodeRef> Filesystem::Create(const sentry::InodeRef& dir, const std::string& name, mode_t mode,
                                            dev_t rdev, const std::string& target, const Credentials& creds) {
  Result<InodeRef> made = NewInode(mode, creds, dir.get());
  if (!made) return Errno{made.error()};
  InodeRef inode = std::move(made.value());
  if (S_ISCHR(mode) || S_ISBLK(mode)) inode->rdev = rdev;
  if (S_ISLNK(mode)) {
    inode->target = target;
    inode->size = target.size();
  }
  LinkEntry(dir, name, inode);
  TouchModified(*dir);
  return sentry::InodeRef(inode);
}

Result<sentry::InodeRef> Filesystem::CreateUnnamed(const sentry::InodeRef& dir, mode_t mode, const Credentials& creds) {
  Result<InodeRef> made = NewInode(S_IFREG | mode, creds, dir.get());
  if (!made) return Errno{made.error()};
  return sentry::InodeRef(*made);
}

Result<sentry::InodeRef> Filesystem::BindSocket(const sentry::InodeRef& dir, const std::string& name, mode_t mode,
                                                const Credentials& creds, int socket) {
  Result<InodeRef> made = NewInode(S_IFSOCK | mode, creds, dir.get());
  if (!made) return Errno{made.error()};
  Result<std::string> host_path = StandInPath(**made);
  if (!host_path) {
    ForgetIfUnused(**made);  // nobody else has it: no lock to take
    return Errno{host_path.error()};
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, host_path->c_str(), sizeof addr.sun_path - 1);
  if (bind(socket, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    unlink(host_path->c_str());
    ForgetIfUnused(**made);  // nobody else has it: no lock to take
    return Errno{error == EADDRINUSE ? EINVAL : error};  // bound already: Linux says EINVAL
  }
  LinkEntry(dir, name, *made);
  TouchModified(*dir);
  return sentry::InodeRef(*made);
}

Result<std::string> Filesystem::SocketPath(const sentry::Inode& inode) { return StandInPath(Of(inode)); }

Result<void> Filesystem::Link(const sentry::InodeRef& dir, const std::string& name, const sentry::InodeRef& inode) {
  // The first name of an O_TMPFILE file was reserved when it was made.
  if (inode->nlink > 0)
    if (Result<void> r = ReserveInode(dir.get()); !r) return r;
  LinkEntry(dir, name, std::static_pointer_cast<Inode>(inode));
  TouchModified(*dir);
  TouchChanged(*inode);
  return {};
}

void Filesystem::LinkEntry(const sentry::InodeRef& dir, const std::string& name, const InodeRef& inode) {
  AddEntry(dir, name, inode);
  inode->nlink++;
  if (inode->is_dir()) {
    inode->nlink = 2;  // its own "." and the entry
    inode->parent = dir;
    dir->nlink++;      // its ".."
  }
}

Result<void> Filesystem::ReserveInode(const sentry::Inode* held) {
  {
    std::lock_guard lock(usage_mu_);
    if (used_inodes_ < max_inodes_) {
      used_inodes_++;
      return {};
    }
  }
  DrainReleases({held});  // released files may make room
  std::lock_guard lock(usage_mu_);
  if (used_inodes_ >= max_inodes_) return Errno{ENOSPC};
  used_inodes_++;
  return {};
}

Result<void> Filesystem::Unlink(const sentry::InodeRef& dir, const std::string& name) {
  sentry::InodeRef victim = Lookup(*dir, name);
  if (!victim) return Errno{ENOENT};
  RemoveEntry(*dir, name);
  TouchModified(*dir);
  TouchChanged(*victim);
  return {};
}

void Filesystem::RemoveEntry(sentry::Inode& dir, const std::string& name) {
  auto c = dir.cookies.find(name);
  if (c == dir.cookies.end()) return;
  InodeRef inode = std::static_pointer_cast<Inode>(std::move(dir.entries.at(c->second).inode));
  dir.entries.erase(c->second);
  dir.cookies.erase(c);
  DropDentry(*inode, dir, name);
  if (inode->is_dir()) {
    inode->nlink = 0;
    dir.nlink--;
  } else {
    if (inode->nlink > 1) {  // an extra link's reservation
      std::lock_guard lock(usage_mu_);
      if (used_inodes_ > 0) used_inodes_--;
    }
    inode->nlink--;
  }
  ForgetIfUnused(*inode);
  DrainReleases({&dir, inode.get()});  // so that other files whose descriptions are gone go now
}

Result<void> Filesystem::Rename(const sentry::InodeRef& old_dir_ref, const std::string& old_name,
                                const sentry::InodeRef& new_dir_ref, const std::string& new_name, unsigned flags,
                                const Credentials& creds) {
  const bool exchange = flags & RENAME_EXCHANGE;
  // shmem_whiteout: a character device 0:0 (overlayfs' whiteout) takes the
  // old name; made first, as its inode may not fit.
  InodeRef whiteout;
  if (flags & RENAME_WHITEOUT) {
    Result<InodeRef> made = NewInode(S_IFCHR, creds, old_dir_ref.get());
    if (!made) return Errno{made.error()};
    whiteout = std::move(made.value());
  }
  sentry::Inode& old_dir = *old_dir_ref;
  sentry::Inode& new_dir = *new_dir_ref;
  auto oc = old_dir.cookies.find(old_name);
  if (oc == old_dir.cookies.end()) return Errno{ENOENT};
  sentry::InodeRef moving = old_dir.entries.at(oc->second).inode;
  sentry::InodeRef there = Lookup(new_dir, new_name);
  TouchModified(old_dir);
  TouchModified(new_dir);
  TouchChanged(*moving);
  if (there) TouchChanged(*there);
  if (exchange) {
    auto nc = new_dir.cookies.find(new_name);
    if (&old_dir == &new_dir) {
      // In one directory the names trade places and each inode keeps its
      // position in the listing, as Linux's offset directories do.
      Inode::Entry& a = old_dir.entries.at(oc->second);
      Inode::Entry& b = old_dir.entries.at(nc->second);
      std::swap(a.name, b.name);
      std::swap(oc->second, nc->second);
      if (!moving->is_dir() && moving->name == old_name) SetDentry(*moving, old_dir_ref, new_name);
      if (!there->is_dir() && there->name == new_name) SetDentry(*there, old_dir_ref, old_name);
      return {};
    }
    old_dir.entries.at(oc->second).inode = there;
    new_dir.entries.at(nc->second).inode = moving;
    if (!moving->is_dir() && moving->parent.lock() == old_dir_ref && moving->name == old_name)
      SetDentry(*moving, new_dir_ref, new_name);
    if (!there->is_dir() && there->parent.lock() == new_dir_ref && there->name == new_name)
      SetDentry(*there, old_dir_ref, old_name);
    if (moving->is_dir()) moving->parent = new_dir_ref;
    if (there->is_dir()) there->parent = old_dir_ref;
    if (moving->is_dir() != there->is_dir()) {
      // ".." links move with the directories.
      if (moving->is_dir()) {
        old_dir.nlink--;
        new_dir.nlink++;
      } else {
        old_dir.nlink++;
        new_dir.nlink--;
      }
    }
    return {};
  }
  if (there) RemoveEntry(new_dir, new_name);
  old_dir.entries.erase(oc->second);
  old_dir.cookies.erase(oc);
  const bool its_dentry = !moving->is_dir() && moving->parent.lock() == old_dir_ref && moving->name == old_name;
  AddEntry(new_dir_ref, new_name, moving);
  if (its_dentry) SetDentry(*moving, new_dir_ref, new_name);
  if (whiteout) LinkEntry(old_dir_ref, old_name, whiteout);
  if (moving->is_dir()) {
    moving->parent = new_dir_ref;
    if (&old_dir != &new_dir) {
      old_dir.nlink--;
      new_dir.nlink++;
    }
  }
  return {};
}

Result<size_t> Filesystem::Read(Inode& inode, uint64_t offset, void* buf, size_t n) {
  if (offset >= inode.size) return size_t{0};
  if (n > inode.size - offset) n = inode.size - offset;
  ssize_t r = pread(inode.memfd.get(), buf, n, static_cast<off_t>(offset));
  if (r < 0) return Errno{EIO};
  return static_cast<size_t>(r);
}

Result<size_t> Filesystem::Write(Inode& inode, uint64_t offset, const void* buf, size_t n) {
  if (offset >= kMaxFileSize) return Errno{EFBIG};
  if (n > kMaxFileSize - offset) n = kMaxFileSize - offset;
  // Blocks are only counted against a size limit (no limit, no fstat);
  // with one, a write's allocation is one at a time in the filesystem.
  const bool limited = max_blocks_ != 0;
  std::unique_lock usage_lock(usage_mu_, std::defer_lock);
  if (limited) usage_lock.lock();
  struct stat before {};
  if (limited) fstat(inode.memfd.get(), &before);
  size_t done = 0;
  if (!limited || used_blocks_ + BlocksOf(offset % kPage + n) <= max_blocks_) {
    ssize_t r = pwrite(inode.memfd.get(), buf, n, static_cast<off_t>(offset));
    if (r < 0) return Errno{errno == ENOSPC || errno == ENOMEM ? ENOSPC : EIO};
    done = static_cast<size_t>(r);
  } else {
    // Near the limit: a page at a time, until a page cannot be had.
    struct stat st = before;
    while (done < n) {
      size_t chunk = std::min<size_t>(n - done, kPage - (offset + done) % kPage);
      uint64_t page_used = used_blocks_ - static_cast<uint64_t>(before.st_blocks) / 8 + static_cast<uint64_t>(st.st_blocks) / 8;
      off_t probe = static_cast<off_t>((offset + done) / kPage * kPage);
      bool allocated = lseek(inode.memfd.get(), probe, SEEK_DATA) == probe && probe < static_cast<off_t>(inode.size);
      if (!allocated && page_used + 1 > max_blocks_) break;
      ssize_t r = pwrite(inode.memfd.get(), static_cast<const char*>(buf) + done, chunk,
                         static_cast<off_t>(offset + done));
      if (r <= 0) break;
      done += static_cast<size_t>(r);
      fstat(inode.memfd.get(), &st);
    }
    if (done == 0) return Errno{ENOSPC};
  }
  if (limited) {
    struct stat after;
    fstat(inode.memfd.get(), &after);
    AccountBlocksLocked(before, after);
  }
  if (offset + done > inode.size) inode.size = offset + done;
  return done;
}

Result<void> Filesystem::Truncate(Inode& inode, uint64_t size) {
  if (size > kMaxFileSize) return Errno{EFBIG};
  struct stat before, after;
  fstat(inode.memfd.get(), &before);
  if (ftruncate(inode.memfd.get(), static_cast<off_t>(size)) != 0) return Errno{errno == EFBIG ? EFBIG : EIO};
  fstat(inode.memfd.get(), &after);
  AccountBlocks(before, after);
  inode.size = size;
  return {};
}

// The pages of [first, end) (page indexes) that hold nothing in the memfd,
// by SEEK_DATA/SEEK_HOLE below the file's size; past it, every page (a
// KEEP_SIZE allocation there cannot be seen, and counts again).
uint64_t Filesystem::EmptyPages(Inode& inode, uint64_t first, uint64_t end) {
  const uint64_t size_pages = BlocksOf(inode.size);
  uint64_t empty = end > size_pages ? end - std::max(first, size_pages) : 0;
  const int fd = inode.memfd.get();
  for (uint64_t page = first; page < std::min(end, size_pages);) {
    off_t data = lseek(fd, static_cast<off_t>(page * kPage), SEEK_DATA);
    uint64_t data_page = data < 0 ? size_pages : static_cast<uint64_t>(data) / kPage;
    data_page = std::min(data_page, std::min(end, size_pages));
    empty += data_page - page;
    if (data_page >= std::min(end, size_pages)) break;
    off_t hole = lseek(fd, static_cast<off_t>(data_page * kPage), SEEK_HOLE);
    page = hole < 0 ? size_pages : BlocksOf(static_cast<uint64_t>(hole));
  }
  return empty;
}

Result<void> Filesystem::Allocate(Inode& inode, int mode, uint64_t offset, uint64_t length) {
  std::lock_guard usage_lock(usage_mu_);
  // shmem_fallocate, with or without FALLOC_FL_KEEP_SIZE (other modes are
  // the memfd's to refuse): a range of more pages than the mount holds is
  // ENOSPC at once; else it allocates page by page and, out of room, gives
  // back what it took and answers ENOSPC. Here: the range's empty pages
  // must fit, before the host allocates any of them.
  if ((mode & ~FALLOC_FL_KEEP_SIZE) == 0 && max_blocks_ != 0) {
    const uint64_t first = offset / kPage, end = BlocksOf(offset + length);
    if (end - first > max_blocks_) return Errno{ENOSPC};
    if (used_blocks_ + EmptyPages(inode, first, end) > max_blocks_) return Errno{ENOSPC};
  }
  struct stat before, after;
  fstat(inode.memfd.get(), &before);
  if (fallocate(inode.memfd.get(), mode, static_cast<off_t>(offset), static_cast<off_t>(length)) != 0)
    return Errno{errno};
  fstat(inode.memfd.get(), &after);
  AccountBlocksLocked(before, after);
  inode.size = static_cast<uint64_t>(after.st_size);
  return {};
}

Result<void> Filesystem::Fallocate(Inode& inode, int mode, int64_t offset, int64_t length, const TaskState* task) {
  if ((mode & ~FALLOC_FL_KEEP_SIZE) && inode.append_only()) return Errno{EPERM};
  if (inode.immutable()) return Errno{EPERM};
  if (inode.is_dir()) return Errno{EISDIR};
  if (!inode.is_reg()) return Errno{ENODEV};
  const uint64_t end = static_cast<uint64_t>(offset) + static_cast<uint64_t>(length);
  if (end > kMaxFileSize) return Errno{EFBIG};
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return Errno{EOPNOTSUPP};  // shmem's set
  // shmem_fallocate: inode_newsize_ok, KEEP_SIZE or not.
  if (!(mode & FALLOC_FL_PUNCH_HOLE) && task != nullptr)
    if (int e = CheckFileGrowth(*task, inode.size, end)) return Errno{e};
  if (Result<void> r = Allocate(inode, mode, static_cast<uint64_t>(offset), static_cast<uint64_t>(length)); !r)
    return r;
  TouchModified(inode);
  return {};
}

namespace {
constexpr int kVisibleFlags = FS_APPEND_FL | FS_NODUMP_FL | FS_IMMUTABLE_FL | FS_NOATIME_FL;
}  // namespace

int Filesystem::InodeFlags(const sentry::Inode& inode) { return static_cast<int>(inode.flags) & kVisibleFlags; }

Result<void> Filesystem::SetInodeFlags(sentry::Inode& inode, int flags, const Credentials& creds) {
  if (!OwnerOrCapable(inode, creds)) return Errno{EPERM};
  if ((static_cast<uint32_t>(flags) ^ inode.flags) & (FS_APPEND_FL | FS_IMMUTABLE_FL))
    if (!creds.Capable(CAP_LINUX_IMMUTABLE)) return Errno{EPERM};
  if (flags & ~kVisibleFlags) return Errno{EOPNOTSUPP};
  inode.flags = static_cast<uint32_t>(flags);
  TouchChanged(inode);
  return {};
}

Result<uint64_t> Filesystem::SeekData(Inode& inode, uint64_t offset, int whence) {
  if (offset >= inode.size) return Errno{ENXIO};
  off_t r = lseek(inode.memfd.get(), static_cast<off_t>(offset), whence);
  if (r < 0) return Errno{errno};
  return static_cast<uint64_t>(r);
}

Result<size_t> Filesystem::ReadExecHeader(sentry::Inode& vfs_inode, char* buf, size_t n) {
  Inode& inode = Of(vfs_inode);
  if (!inode.memfd) return size_t{0};
  return Read(inode, 0, buf, n);
}

int Filesystem::DenyWriteAccess(sentry::Inode& vfs_inode) {
  Inode& inode = Of(vfs_inode);
  if (!inode.memfd) return 0;  // never opened: no writer
  // The sentry's own fd (memfd_create's) is no writer of i_writecount.
  if (fcntl(inode.memfd.get(), F_SETLEASE, F_RDLCK) != 0) return errno == EAGAIN ? ETXTBSY : 0;
  fcntl(inode.memfd.get(), F_SETLEASE, F_UNLCK);
  return 0;
}

Result<UniqueFd> Filesystem::OpenExec(const sentry::InodeRef& vfs_inode) {
  InodeRef inode = std::static_pointer_cast<Inode>(vfs_inode);
  Result<UniqueFd> file = OpenDescription(inode, O_RDONLY);
  if (!file) return file;
  std::lock_guard inode_lock(inode->mu);
  inode->executed = true;
  std::lock_guard files_lock(files_mu_);
  inode->opens++;
  return file;
}

sentry::InodeRef Filesystem::FindByHostIno(ino_t host_ino, bool* path_only) {
  std::lock_guard files_lock(files_mu_);
  *path_only = false;
  if (InodeRef* inode = by_host_ino_.Find(host_ino)) return *inode;
  PathToken* token = path_tokens_.Find(host_ino);
  if (token == nullptr) return nullptr;
  *path_only = true;
  return token->inode;
}

int Filesystem::PathFlags(ino_t host_ino) {
  std::lock_guard files_lock(files_mu_);
  PathToken* token = path_tokens_.Find(host_ino);
  return token == nullptr ? O_PATH : token->flags;
}

void Filesystem::Check(std::string* problems) const {
  std::unordered_map<const sentry::Inode*, uint32_t> names;
  uint64_t dirs = 0;
  std::vector<const sentry::Inode*> stack{root_.get()};
  while (!stack.empty()) {
    const sentry::Inode* dir = stack.back();
    stack.pop_back();
    dirs++;
    uint32_t subdirs = 0;
    if (dir->entries.size() != dir->cookies.size()) *problems += "directory " + std::to_string(dir->ino) + ": index out of step\n";
    for (const auto& [cookie, entry] : dir->entries) {
      const sentry::Inode* child = entry.inode.get();
      if (child->is_dir()) {
        subdirs++;
        if (child->parent.lock().get() != dir) *problems += "directory " + std::to_string(child->ino) + ": wrong parent\n";
        stack.push_back(child);
      } else {
        names[child]++;
      }
    }
    if (dir->nlink != 2 + subdirs)
      *problems += "directory " + std::to_string(dir->ino) + ": nlink " + std::to_string(dir->nlink) + ", " +
                   std::to_string(subdirs) + " subdirectories\n";
  }
  for (const auto& [inode, count] : names)
    if (inode->nlink != count)
      *problems += "inode " + std::to_string(inode->ino) + ": nlink " + std::to_string(inode->nlink) + ", " +
                   std::to_string(count) + " names\n";
  if (dirs + names.size() > used_inodes_)
    *problems += "more inodes in the tree (" + std::to_string(dirs + names.size()) + ") than accounted (" +
                 std::to_string(used_inodes_) + ")\n";
}

void Filesystem::Statfs(struct statfs* out) {
  DrainReleases();
  std::lock_guard lock(usage_mu_);
  std::memset(out, 0, sizeof *out);
  out->f_type = TMPFS_MAGIC;
  out->f_bsize = kPage;
  out->f_frsize = kPage;
  out->f_namelen = NAME_MAX;
  out->f_blocks = max_blocks_;
  out->f_bfree = out->f_bavail = max_blocks_ > used_blocks_ ? max_blocks_ - used_blocks_ : 0;
  if (max_inodes_ != UINT64_MAX) {  // nr_inodes=0: no limit, none said (shmem_statfs)
    out->f_files = max_inodes_;
    out->f_ffree = max_inodes_ - used_inodes_;
  }
  out->f_fsid = {{static_cast<int>(major(dev_) << 20 | minor(dev_)), 0}};
  out->f_flags = kStValid | ST_RELATIME;  // this mount's flags
}

void Filesystem::Getattr(const sentry::Inode& vfs_inode, struct stat* st) {
  sentry::Filesystem::Getattr(vfs_inode, st);
  const Inode& inode = Of(vfs_inode);
  if (inode.is_dir()) st->st_size = static_cast<off_t>(20 * (inode.entries.size() + 2));  // BOGO_DIRENT_SIZE each
  if (inode.is_reg() && inode.memfd) {
    struct stat data;
    if (fstat(inode.memfd.get(), &data) == 0) st->st_blocks = data.st_blocks;
  } else if (inode.is_symlink() && inode.target.size() >= 128) {
    st->st_blocks = 8;  // a long symlink takes a page
  }
}

int Filesystem::XattrSupport(const std::string& name, bool write) const {
  // xattr_resolve_name: a handler's prefix with nothing after it is EINVAL.
  if (name == "user." || name == "trusted." || name == "security.") return EINVAL;
  if (name.starts_with("user.") || name.starts_with("trusted.") || name.starts_with("security.")) return 0;
  // The POSIX ACL handlers: none set, so none to get.
  if (!write && (name == "system.posix_acl_access" || name == "system.posix_acl_default")) return ENODATA;
  return EOPNOTSUPP;
}

Result<void> Filesystem::SetSize(sentry::Inode& inode, uint64_t size) {
  if (Of(inode).executed) {
    // get_write_access: ETXTBSY while the file runs as a program (the
    // host's count, asked by opening a writer; its release is reported
    // like a guest's).
    Result<UniqueFd> writer = Reopen(Of(inode).memfd.get(), O_WRONLY);
    if (!writer) return Errno{writer.error()};
    std::lock_guard files_lock(files_mu_);
    Of(inode).opens++;
  }
  if (Result<void> r = Truncate(Of(inode), size); !r) return r;
  TouchModified(inode);
  return {};
}

Answer Filesystem::Open(Kernel&, Syscall&, const sentry::InodeRef& vfs_inode, int flags, const Credentials&) {
  InodeRef inode = std::static_pointer_cast<Inode>(vfs_inode);
  // do_dentry_open: O_DIRECT needs FMODE_CAN_ODIRECT, which shmem gives
  // regular files only.
  if ((flags & O_DIRECT) && !(flags & O_PATH) && !inode->is_reg()) return Answer::Error(EINVAL);
  Result<UniqueFd> file = Errno{ENXIO};
  if (flags & O_PATH)
    file = OpenDescription(inode, flags);
  else if (inode->is_fifo())
    file = OpenFifo(*inode, flags);
  else if (inode->is_socket() || inode->is_device())
    // A socket cannot be opened (Linux: ENXIO); a device node would open
    // the host's driver, which the sentry does not offer.
    return Answer::Error(ENXIO);
  else
    file = OpenDescription(inode, flags);
  if (!file) return Answer::Error(file.error());
  return Answer::InstallFd(std::move(file.value()), flags & O_CLOEXEC);
}

std::shared_ptr<File> Filesystem::FileOf(Mount* mount, const sentry::InodeRef& inode, UniqueFd description,
                                         bool path_only) {
  return std::make_shared<TmpfsFile>(mount, std::static_pointer_cast<Inode>(inode), std::move(description), path_only);
}

}  // namespace ukcov::sentry::tmpfs
