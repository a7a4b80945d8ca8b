// A miniature user-space kernel that embeds libukcov: the complete example
// host of docs/embedding.md. It serves a handful of syscalls for guest code
// running in its own process: open, ioctl, mmap, read and close, with
// /sys/kernel/debug/kcov as one of its files.
//
// Its handlers (kernel.cc) are compiled with ukcov_instrument(); its entry
// point (entry.cc) is not, as Linux does not instrument its syscall entry.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

#include "ukcov/ukcov.hpp"

namespace mini {

// An open file description: what fds refer to.
struct OpenFile {
  enum class Kind { kKcov, kNull } kind;
  std::unique_ptr<ukcov::Instance> kcov;  // kKcov only: the file's reference
};

class Kernel {
 public:
  explicit Kernel(ukcov::Engine& engine) : engine_(engine) {}

  // The handlers: each returns what the syscall returns, -errno on failure.
  long Open(ukcov::Task& task, const char* path, int flags);
  long Ioctl(ukcov::Task& task, int fd, unsigned int cmd, unsigned long arg);
  long Mmap(ukcov::Task& task, size_t length, int prot, int flags, int fd, off_t offset, void** out);
  long Read(ukcov::Task& task, int fd, void* buf, size_t count);
  long Close(ukcov::Task& task, int fd);

 private:
  std::shared_ptr<OpenFile> Lookup(int fd);

  ukcov::Engine& engine_;
  std::mutex mu_;
  std::map<int, std::shared_ptr<OpenFile>> fds_;  // guarded by mu_
  int next_fd_ = 3;                                // guarded by mu_
};

// The syscall entry: brackets a handler with ukcov_enter/ukcov_leave for
// the calling thread's task (entry.cc).
struct Guest {
  Kernel& kernel;
  ukcov::Task& task;
  long open(const char* path, int flags);
  long ioctl(int fd, unsigned int cmd, unsigned long arg);
  void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset);
  long read(int fd, void* buf, size_t count);
  long close(int fd);
};

}  // namespace mini
