#include "sentry/vfs/filesystem.h"

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <thread>

namespace ukcov::sentry {

timespec CurrentTime() {
  timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

void TouchAccessed(Inode& inode) {
  const timespec now = CurrentTime();
  // Compared as nanoseconds, with no branch per field: whether two stamps
  // share a second is timing, not state, and must not change the blocks
  // that run (docs/coverage.md, "Stable").
  auto ns = [](const timespec& t) { return static_cast<__int128>(t.tv_sec) * 1000000000 + t.tv_nsec; };
  const int stale = static_cast<int>(ns(inode.atime) <= ns(inode.mtime)) |
                    static_cast<int>(ns(inode.atime) <= ns(inode.ctime)) |
                    static_cast<int>(now.tv_sec - inode.atime.tv_sec >= 86400);
  if (stale) inode.atime = now;
}

InodeLocks::InodeLocks(std::initializer_list<Inode*> inodes) {
  std::array<Inode*, kMax> want{};
  size_t n = 0;
  for (Inode* i : inodes)
    if (i != nullptr && std::find(want.begin(), want.begin() + n, i) == want.begin() + n && n < kMax) want[n++] = i;
  if (n == 0) return;
  size_t first = 0;
  for (;;) {
    want[first]->mu.lock();
    size_t failed = n;
    for (size_t i = 0; i < n && failed == n; i++) {
      if (i == first) continue;
      if (!want[i]->mu.try_lock()) failed = i;
    }
    if (failed == n) break;
    // Let go of all taken, and wait for the one that was busy first.
    for (size_t i = 0; i < failed; i++)
      if (i != first) want[i]->mu.unlock();
    want[first]->mu.unlock();
    first = failed;
    std::this_thread::yield();
  }
  held_ = want;
  count_ = n;
}

InodeLocks& InodeLocks::operator=(InodeLocks&& other) noexcept {
  if (this != &other) {
    Unlock();
    held_ = other.held_;
    count_ = other.count_;
    other.count_ = 0;
  }
  return *this;
}

void InodeLocks::Unlock() {
  for (size_t i = 0; i < count_; i++) held_[i]->mu.unlock();
  count_ = 0;
}

InodeRef Filesystem::Lookup(const Inode& dir, const std::string& name) const {
  auto c = dir.cookies.find(name);
  return c == dir.cookies.end() ? nullptr : dir.entries.at(c->second).inode;
}

InodeLocks Filesystem::LockEntry(const InodeRef& dir, const std::string& name, InodeRef* entry) const {
  for (;;) {
    InodeRef seen;
    {
      std::lock_guard lock(dir->mu);
      seen = Lookup(*dir, name);
    }
    InodeLocks locks({dir.get(), seen.get()});
    *entry = Lookup(*dir, name);
    if (*entry == seen) return locks;
  }
}

InodeLocks Filesystem::LockRename(const InodeRef& from, const std::string& name, const InodeRef& to,
                                  const std::string& new_name, InodeRef* source, InodeRef* target) const {
  for (;;) {
    InodeRef seen_source, seen_target;
    {
      InodeLocks dirs({from.get(), to.get()});
      seen_source = Lookup(*from, name);
      seen_target = Lookup(*to, new_name);
    }
    InodeLocks locks({from.get(), to.get(), seen_source.get(), seen_target.get()});
    *source = Lookup(*from, name);
    *target = Lookup(*to, new_name);
    if (*source == seen_source && *target == seen_target) return locks;
  }
}

void Filesystem::AddEntry(const InodeRef& dir, const std::string& name, const InodeRef& inode) {
  const uint64_t cookie = dir->next_cookie++;
  dir->entries.emplace(cookie, Inode::Entry{name, inode});
  dir->cookies.emplace(name, cookie);
  if (!inode->is_dir() && (inode->unhashed || inode->parent.expired() || inode->name.empty()))
    SetDentry(*inode, dir, name);
}

void Filesystem::SetDentry(Inode& inode, const InodeRef& dir, const std::string& name) {
  inode.parent = dir;
  inode.name = name;
  inode.unhashed = false;
}

void Filesystem::DropDentry(Inode& inode, const Inode& dir, const std::string& name) {
  if (!inode.is_dir() && inode.parent.lock().get() == &dir && inode.name == name) inode.unhashed = true;
}

Result<InodeRef> Filesystem::Create(const InodeRef&, const std::string&, mode_t, dev_t, const std::string&,
                                    const Credentials&) {
  return Errno{EPERM};
}
Result<InodeRef> Filesystem::CreateUnnamed(const InodeRef&, mode_t, const Credentials&) { return Errno{EOPNOTSUPP}; }
Result<void> Filesystem::Link(const InodeRef&, const std::string&, const InodeRef&) { return Errno{EPERM}; }
Result<void> Filesystem::Unlink(const InodeRef&, const std::string&) { return Errno{EPERM}; }
Result<void> Filesystem::Rename(const InodeRef&, const std::string&, const InodeRef&, const std::string&, unsigned,
                                const Credentials&) {
  return Errno{EPERM};
}
Result<void> Filesystem::SetSize(Inode&, uint64_t) { return Errno{EPERM}; }
Result<InodeRef> Filesystem::BindSocket(const InodeRef&, const std::string&, mode_t, const Credentials&, int) {
  return Errno{EPERM};
}
Result<std::string> Filesystem::SocketPath(const Inode&) { return Errno{ECONNREFUSED}; }
Result<size_t> Filesystem::ReadExecHeader(Inode&, char*, size_t) { return Errno{EACCES}; }
Result<UniqueFd> Filesystem::OpenExec(const InodeRef&) { return Errno{EACCES}; }

void Filesystem::Getattr(const Inode& inode, struct stat* st) {
  std::memset(st, 0, sizeof *st);
  st->st_dev = dev_;
  st->st_ino = inode.ino;
  st->st_mode = inode.mode;
  st->st_nlink = inode.nlink;
  st->st_uid = inode.uid;
  st->st_gid = inode.gid;
  st->st_rdev = inode.rdev;
  st->st_size = static_cast<off_t>(inode.size);
  st->st_blksize = 4096;
  st->st_atim = inode.atime;
  st->st_mtim = inode.mtime;
  st->st_ctim = inode.ctime;
}

}  // namespace ukcov::sentry
