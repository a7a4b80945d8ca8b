// The mini kernel's syscall handlers. Instrumented: this is the code whose
// coverage a guest sees through kcov.
#include "kernel.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace mini {

std::shared_ptr<OpenFile> Kernel::Lookup(int fd) {
  std::lock_guard lock(mu_);
  auto it = fds_.find(fd);
  return it == fds_.end() ? nullptr : it->second;
}

long Kernel::Open(ukcov::Task&, const char* path, int flags) {
  if (path == nullptr) return -EFAULT;
  auto file = std::make_shared<OpenFile>();
  if (std::strcmp(path, "/sys/kernel/debug/kcov") == 0) {
    if ((flags & O_ACCMODE) != O_RDWR) return -EACCES;
    auto instance = ukcov::Instance::Open(engine_);
    if (!instance) return instance.negated();
    file->kind = OpenFile::Kind::kKcov;
    file->kcov = std::make_unique<ukcov::Instance>(std::move(instance.value()));
  } else if (std::strcmp(path, "/dev/null") == 0) {
    file->kind = OpenFile::Kind::kNull;
  } else {
    return -ENOENT;
  }
  std::lock_guard lock(mu_);
  int fd = next_fd_++;
  fds_[fd] = std::move(file);
  return fd;
}

long Kernel::Ioctl(ukcov::Task& task, int fd, unsigned int cmd, unsigned long arg) {
  std::shared_ptr<OpenFile> file = Lookup(fd);
  if (!file) return -EBADF;
  if (file->kind != OpenFile::Kind::kKcov) return -ENOTTY;
  return file->kcov->Ioctl(task, cmd, arg);
}

long Kernel::Mmap(ukcov::Task&, size_t length, int prot, int flags, int fd, off_t offset, void** out) {
  std::shared_ptr<OpenFile> file = Lookup(fd);
  if (!file) return -EBADF;
  if (file->kind != OpenFile::Kind::kKcov) return -ENODEV;
  if (length == 0 || offset < 0 || offset % 4096 != 0) return -EINVAL;
  if (int r = file->kcov->MmapCheck(static_cast<uint64_t>(offset) / 4096, length); r != 0) return r;
  // The guest maps the very memfd the engine records into.
  void* p = ::mmap(nullptr, length, prot, flags, file->kcov->area_fd(), 0);
  if (p == MAP_FAILED) return -errno;
  *out = p;
  return 0;
}

long Kernel::Read(ukcov::Task&, int fd, void* buf, size_t count) {
  std::shared_ptr<OpenFile> file = Lookup(fd);
  if (!file) return -EBADF;
  if (file->kind == OpenFile::Kind::kKcov) return -EINVAL;
  if (buf == nullptr && count != 0) return -EFAULT;
  return 0;  // /dev/null: end of file
}

long Kernel::Close(ukcov::Task&, int fd) {
  std::shared_ptr<OpenFile> file;
  {
    std::lock_guard lock(mu_);
    auto it = fds_.find(fd);
    if (it == fds_.end()) return -EBADF;
    file = std::move(it->second);
    fds_.erase(it);
  }
  return 0;  // the last reference to the file goes with `file`
}

}  // namespace mini
