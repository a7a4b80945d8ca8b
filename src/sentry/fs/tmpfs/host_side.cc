// tmpfs's host side, outside the coverage (like host_index.h's tables):
// the memfds behind inodes, what the host reports asynchronously, and the
// sentry's private stand-ins on the host.
//   - Descriptions: a guest's struct file is a reopen of the inode's memfd
//     (or an O_PATH token), watched for its release. A directory's or
//     symlink's memfd and its watch are made at its first open ever, which
//     depends on what ran before (the mount's root is opened by every fuzz
//     program's cleanup), not on the call.
//   - Releases: the host's inotify reports of closed descriptions arrive when
//     the host sends them, and a call drains whatever has arrived by then.
//     Instrumented, the draining put one or two PCs more or fewer into a
//     call's coverage depending on timing; a fuzzer reads that as new
//     behaviour (docs/coverage.md, "Stable").
//   - Stand-ins: a FIFO's or socket's host path is named by its inode
//     number, whose digits are the sentry's history, not the call's.
// The decisions a guest sees (ENOSPC at a limit, a name's removal) stay in
// tmpfs.cc.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/proc_files.h"

namespace ukcov::sentry::tmpfs {

Result<UniqueFd> Filesystem::OpenDescription(const InodeRef& inode, int flags) {
  if (flags & O_PATH) {
    UniqueFd token(memfd_create("ukcov-tmpfs-path", MFD_CLOEXEC));
    if (!token) return Errno{errno == EMFILE || errno == ENFILE ? errno : ENOMEM};
    struct stat st;
    fstat(token.get(), &st);
    Result<UniqueFd> file = Reopen(token.get(), O_RDONLY);
    if (!file) return Errno{file.error()};
    std::lock_guard files_lock(files_mu_);
    int watch = WatchReleases(inotify_.get(), token.get());
    if (watch >= 0) by_watch_.Set(static_cast<uint64_t>(watch), st.st_ino);
    path_tokens_.Set(st.st_ino, {inode, std::move(token), watch, flags & (O_PATH | O_NOFOLLOW | O_DIRECTORY)});
    inode->opens++;
    inode->path_opens++;
    return file;
  }
  std::lock_guard inode_lock(inode->mu);
  if (Result<void> r = EnsureMemfd(*inode); !r) return Errno{r.error()};
  // What the host keeps of the guest's flags: access mode, O_APPEND,
  // O_NONBLOCK, O_SYNC/O_DSYNC. Directories and symlinks are read-only
  // tokens.
  int access = flags & O_ACCMODE;
  int host_flags = inode->is_reg() ? (access == O_ACCMODE ? O_RDWR : access) : O_RDONLY;
  host_flags |= flags & (O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC);
  Result<UniqueFd> file = Reopen(inode->memfd.get(), host_flags);
  if (!file) return Errno{file.error()};
  std::lock_guard files_lock(files_mu_);
  if (by_host_ino_.Find(inode->host_ino) == nullptr) {
    int watch = WatchReleases(inotify_.get(), inode->memfd.get());
    if (watch >= 0) by_watch_.Set(static_cast<uint64_t>(watch), inode->host_ino);
    inode->watch = watch;
    by_host_ino_.Set(inode->host_ino, inode);
  }
  inode->opens++;
  return file;
}

Result<void> Filesystem::EnsureMemfd(Inode& inode) {
  if (inode.memfd) return {};
  UniqueFd fd(memfd_create("ukcov-tmpfs", MFD_CLOEXEC));
  if (!fd) return Errno{errno == EMFILE || errno == ENFILE ? ENFILE : ENOMEM};
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Errno{errno};
  inode.memfd = std::move(fd);
  inode.host_ino = st.st_ino;
  return {};
}

std::string Filesystem::StandInPathOf(const Inode& inode) const {
  return stand_in_dir_ + "/" + std::to_string(inode.ino);
}

Result<std::string> Filesystem::StandInPath(const Inode& inode) {
  std::lock_guard lock(stand_in_mu_);
  if (stand_in_dir_.empty()) {
    char dir[] = "/tmp/ukcov-fifo.XXXXXX";
    if (mkdtemp(dir) == nullptr) return Errno{ENOMEM};
    stand_in_dir_ = dir;
  }
  return StandInPathOf(inode);
}

void Filesystem::Released(ino_t host_ino) {
  if (PathToken* token = path_tokens_.Find(host_ino)) {
    // An O_PATH description's token: exactly one description, now gone.
    InodeRef inode = std::move(token->inode);
    if (token->watch >= 0) {
      inotify_rm_watch(inotify_.get(), token->watch);
      by_watch_.Erase(static_cast<uint64_t>(token->watch));
    }
    path_tokens_.Erase(host_ino);
    if (inode->opens > 0) inode->opens--;
    if (inode->path_opens > 0) inode->path_opens--;
    orphans_.push_back(std::move(inode));
    return;
  }
  InodeRef* found = by_host_ino_.Find(host_ino);
  if (found == nullptr) return;
  InodeRef inode = *found;
  if (inode->opens > 0) inode->opens--;
  // A candidate even with opens left: merged events may have undercounted
  // the releases (ForgetIfUnused asks the host).
  orphans_.push_back(std::move(inode));
}

bool Filesystem::HasOtherDescriptions(Inode& inode) {
  if (!inode.memfd) return false;
  // The lease is taken on a read-only description of our own, the one
  // reader the check allows (the memfd_create description counts as no
  // writer). Its release is reported like any other: counted as an open.
  Result<UniqueFd> probe = Reopen(inode.memfd.get(), O_RDONLY);
  if (!probe) return true;
  inode.opens++;
  bool others = fcntl(probe->get(), F_SETLEASE, F_WRLCK) != 0;
  if (!others) fcntl(probe->get(), F_SETLEASE, F_UNLCK);
  return others;
}

void Filesystem::ServedOpened(Inode& inode) {
  std::lock_guard files_lock(files_mu_);
  inode.served_opens++;
}

void Filesystem::ServedReleased(Inode& inode) {
  {
    std::lock_guard files_lock(files_mu_);
    if (inode.served_opens > 0) inode.served_opens--;
  }
  ForgetIfUnused(inode);
  DropKeptData(inode);
}

void Filesystem::ServedHeld(Inode& inode, bool held) {
  {
    std::lock_guard files_lock(files_mu_);
    inode.served_held = held;
  }
  if (!held) DropKeptData(inode);
}

void Filesystem::DropKeptData(Inode& inode) {
  {
    std::lock_guard files_lock(files_mu_);
    if (!inode.forgotten || inode.served_opens != 0 || inode.served_held) return;
  }
  std::lock_guard usage_lock(usage_mu_);
  if (!inode.memfd) return;
  // What a racing open wrote since it was counted free is counted off too.
  struct stat st;
  if (fstat(inode.memfd.get(), &st) == 0) {
    const uint64_t blocks = static_cast<uint64_t>(st.st_blocks) / 8;
    if (blocks > inode.freed_blocks) used_blocks_ -= std::min<uint64_t>(used_blocks_, blocks - inode.freed_blocks);
  }
  inode.memfd.reset();
}

void Filesystem::DrainReleases() { DrainReleases({}); }

void Filesystem::DrainReleases(std::initializer_list<const sentry::Inode*> held) {
  std::vector<InodeRef> candidates;
  {
    std::lock_guard files_lock(files_mu_);
    ReadReleases();
    candidates.swap(orphans_);
  }
  // A file with no description left goes if it has no name either; that
  // needs its lock, which an fd call may hold: then it waits for the next
  // drain (try_lock: this thread may hold other inodes' locks).
  std::vector<InodeRef> later;
  for (InodeRef& inode : candidates) {
    bool is_held = false;
    for (const sentry::Inode* h : held) is_held = is_held || h == inode.get();
    std::unique_lock lock(inode->mu, std::defer_lock);
    if (is_held || !lock.try_lock()) {
      later.push_back(std::move(inode));
      continue;
    }
    ForgetIfUnused(*inode);
  }
  if (later.empty()) return;
  std::lock_guard files_lock(files_mu_);
  for (InodeRef& inode : later) orphans_.push_back(std::move(inode));
}

void Filesystem::ReadReleases() {
  alignas(inotify_event) char buf[4096];
  for (;;) {
    ssize_t n = read(inotify_.get(), buf, sizeof buf);
    if (n <= 0) return;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (!(ev->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE))) continue;
      if (const ino_t* w = by_watch_.Find(static_cast<uint64_t>(ev->wd))) Released(*w);
    }
  }
}

void Filesystem::ForgetIfUnused(Inode& inode) {
  if (inode.nlink != 0) return;
  bool keep_data = false;
  {
    std::lock_guard files_lock(files_mu_);
    if (inode.forgotten || inode.served_opens != 0) return;
    // No description but O_PATH ones: the count is theirs (and the probe's,
    // whose release is still to come, unless the inode goes now and its
    // reports with it).
    if (inode.opens > inode.path_opens && !HasOtherDescriptions(inode))
      inode.opens = inode.path_opens == 0 ? 0 : inode.path_opens + 1;
    if (inode.opens != 0) return;
    inode.forgotten = true;
    keep_data = inode.served_held;
    if (inode.host_ino != 0) {
      by_host_ino_.Erase(inode.host_ino);
      if (inode.watch >= 0) {
        inotify_rm_watch(inotify_.get(), inode.watch);
        by_watch_.Erase(static_cast<uint64_t>(inode.watch));
        inode.watch = -1;
      }
    }
  }
  if (inode.is_fifo() || inode.is_socket()) {
    std::lock_guard lock(stand_in_mu_);
    if (!stand_in_dir_.empty()) unlink(StandInPathOf(inode).c_str());
  }
  std::lock_guard usage_lock(usage_mu_);
  if (inode.memfd) {
    struct stat st;
    if (fstat(inode.memfd.get(), &st) == 0) used_blocks_ -= std::min<uint64_t>(used_blocks_, static_cast<uint64_t>(st.st_blocks) / 8);
    if (keep_data)
      inode.freed_blocks = static_cast<uint64_t>(st.st_blocks) / 8;
    else
      inode.memfd.reset();
  }
  inode.entries.clear();
  inode.cookies.clear();
  if (used_inodes_ > 0) used_inodes_--;
}

}  // namespace ukcov::sentry::tmpfs
