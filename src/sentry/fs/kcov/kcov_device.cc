#include "sentry/fs/kcov/kcov_device.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "sentry/proc_files.h"
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
  by_ino_.Set(st.st_ino, std::move(file));
  ever_opened_.store(true, std::memory_order_release);
  by_watch_.Set(watch, st.st_ino);
  return guest_file;
}

Result<uint64_t> KcovDevice::OpenServed(TaskState&, int flags, InodeRef inode) {
  if (!inotify_) return Errno{ENOMEM};
  auto instance = ukcov::Instance::Open(engine_);
  if (!instance) return Errno{instance.error()};
  struct stat st;
  if (fstat(instance->area_fd(), &st) != 0) return Errno{errno};
  std::lock_guard lock(mu_);
  memfd_dev_ = st.st_dev;
  const uint64_t handle = next_handle_++;
  auto file = std::make_shared<KcovFile>(std::move(instance.value()), flags & O_ACCMODE, st.st_ino, -1,
                                         std::move(inode), handle);
  by_ino_.Set(st.st_ino, file);
  ever_opened_.store(true, std::memory_order_release);
  by_handle_.Set(handle, std::move(file));
  return handle;
}

void KcovDevice::ReleaseServed(uint64_t handle) {
  std::shared_ptr<KcovFile> released;  // dropped outside the lock
  std::lock_guard lock(mu_);
  std::shared_ptr<KcovFile>* found = by_handle_.Find(handle);
  if (found == nullptr) return;
  KcovFile& file = **found;
  file.released = true;
  if (file.mappings == 0) {
    if (file.watch >= 0) {
      inotify_rm_watch(inotify_.get(), file.watch);
      by_watch_.Erase(static_cast<uint64_t>(file.watch));
    }
    by_ino_.Erase(file.ino);
    released = std::move(*found);
  }
  by_handle_.Erase(handle);
}

void KcovDevice::ReleaseAllServed() {
  std::vector<std::shared_ptr<KcovFile>> released;  // dropped outside the lock
  std::lock_guard lock(mu_);
  by_handle_.EraseIf([&](uint64_t, std::shared_ptr<KcovFile>& file) {
    released.push_back(std::move(file));
    return true;
  });
  by_ino_.EraseIf([&](uint64_t, std::shared_ptr<KcovFile>& file) {
    if (file->handle == 0) return false;
    if (file->watch >= 0) {
      inotify_rm_watch(inotify_.get(), file->watch);
      by_watch_.Erase(static_cast<uint64_t>(file->watch));
    }
    released.push_back(std::move(file));
    return true;
  });
}

std::shared_ptr<KcovFile> KcovDevice::FindServed(uint64_t handle) {
  std::lock_guard lock(mu_);
  std::shared_ptr<KcovFile>* file = by_handle_.Find(handle);
  return file == nullptr ? nullptr : *file;
}

Result<UniqueFd> KcovDevice::MapServed(KcovFile& file) {
  int access = file.access_mode;
  Result<UniqueFd> reopened = Reopen(file.instance.area_fd(), access == O_ACCMODE ? O_RDWR : access);
  if (!reopened) return Errno{reopened.error()};
  std::lock_guard lock(mu_);
  if (file.watch < 0) {
    int watch = WatchReleases(inotify_.get(), file.instance.area_fd());
    if (watch < 0) return Errno{errno == ENOSPC ? ENOMEM : errno};
    file.watch = watch;
    by_watch_.Set(watch, file.ino);
  }
  file.mappings++;
  return reopened;
}

std::shared_ptr<KcovFile> KcovDevice::Find(dev_t dev, ino_t ino) {
  std::lock_guard lock(mu_);
  if (dev != memfd_dev_) return nullptr;
  std::shared_ptr<KcovFile>* file = by_ino_.Find(ino);
  return file == nullptr ? nullptr : *file;
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
      const ino_t* w = by_watch_.Find(static_cast<uint64_t>(ev->wd));
      if (w == nullptr) continue;
      const ino_t ino = *w;
      std::shared_ptr<KcovFile>* f = by_ino_.Find(ino);
      if (f != nullptr && (*f)->handle != 0) {
        // A served file's mapping has ended; the file goes once FUSE has
        // released it and no mapping is left.
        KcovFile& file = **f;
        if (--file.mappings > 0 || !file.released) continue;
      }
      if (f != nullptr) {
        inotify_rm_watch(inotify_.get(), ev->wd);
        released.push_back(std::move(*f));
        by_ino_.Erase(ino);
      }
      by_watch_.Erase(static_cast<uint64_t>(ev->wd));
    }
  }
}

}  // namespace ukcov::sentry
