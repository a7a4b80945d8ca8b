// The syscall entry of the mini kernel: not instrumented. It tells the
// engine which task the handlers run for, as a sentry does between
// receiving a syscall and answering it.
#include <sys/mman.h>

#include <cerrno>

#include "kernel.h"

namespace mini {
namespace {

// Returns like libc: -1 with errno set.
long Return(long r) {
  if (r >= 0) return r;
  errno = static_cast<int>(-r);
  return -1;
}

}  // namespace

long Guest::open(const char* path, int flags) {
  ukcov::Serving serving(task);
  return Return(kernel.Open(task, path, flags));
}

long Guest::ioctl(int fd, unsigned int cmd, unsigned long arg) {
  ukcov::Serving serving(task);
  return Return(kernel.Ioctl(task, fd, cmd, arg));
}

void* Guest::mmap(void*, size_t length, int prot, int flags, int fd, off_t offset) {
  ukcov::Serving serving(task);
  void* out = nullptr;
  long r = kernel.Mmap(task, length, prot, flags, fd, offset, &out);
  if (r < 0) {
    errno = static_cast<int>(-r);
    return MAP_FAILED;
  }
  return out;
}

long Guest::read(int fd, void* buf, size_t count) {
  ukcov::Serving serving(task);
  return Return(kernel.Read(task, fd, buf, count));
}

long Guest::close(int fd) {
  ukcov::Serving serving(task);
  return Return(kernel.Close(task, fd));
}

}  // namespace mini
