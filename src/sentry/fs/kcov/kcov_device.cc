#include "sentry/fs/kcov/kcov_device.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/reopen.h"
#include "sentry/kernel.h"

namespace ukcov::sentry {

KcovDevice::KcovDevice(ukcov::Engine& engine)
    : engine_(engine), inotify_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

Result<UniqueFd> KcovDevice::Open(TaskState&, int flags, InodeRef inode) {
  if (!inotify_) return Errno{ENOMEM};
  auto instance = ukcov::Instance::Open(engine_);
  if (!instance) return Errno{instance.error()};
  // The guest's own struct file: its flags are the guest's, its release is ours to see.
  int access = flags & O_ACCMODE;
  Result<UniqueFd> reopened = Reopen(instance->area_fd(), access == O_ACCMODE ? O_RDWR : access);
  if (!reopened) return Errno{reopened.error()};
  UniqueFd guest_file = std::move(reopened.value());
  struct stat st;
  if (fstat(guest_file.get(), &st) != 0) return Errno{errno};
  int watch = WatchReleases(inotify_.get(), instance->area_fd());
  if (watch < 0) return Errno{errno == ENOSPC ? EMFILE : errno};
  auto file = std::make_shared<KcovFile>(std::move(instance.value()), access, st.st_ino, watch, std::move(inode));
  std::lock_guard lock(mu_);
  memfd_dev_ = st.st_dev;
  by_ino_[st.st_ino] = std::move(file);
  by_watch_[watch] = st.st_ino;
  return guest_file;
}

std::shared_ptr<KcovFile> KcovDevice::Find(dev_t dev, ino_t ino) {
  std::lock_guard lock(mu_);
  if (dev != memfd_dev_) return nullptr;
  auto it = by_ino_.find(ino);
  return it == by_ino_.end() ? nullptr : it->second;
}

bool KcovDevice::AnyOpen() {
  std::lock_guard lock(mu_);
  return !by_ino_.empty();
}

void KcovDevice::ReleaseClosed() {
  std::vector<std::shared_ptr<KcovFile>> released;  // dropped outside the lock
  alignas(inotify_event) char buf[4096];
  for (;;) {
    ssize_t n = read(inotify_.get(), buf, sizeof buf);
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (!(ev->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE))) continue;
      auto w = by_watch_.find(ev->wd);
      if (w == by_watch_.end()) continue;
      auto f = by_ino_.find(w->second);
      if (f != by_ino_.end()) {
        inotify_rm_watch(inotify_.get(), ev->wd);
        released.push_back(std::move(f->second));
        by_ino_.erase(f);
      }
      by_watch_.erase(w);
    }
  }
}

}  // namespace ukcov::sentry
