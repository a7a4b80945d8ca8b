// A file of the host kernel's in a guest fd: the host answers every call on
// it, as it would without the sentry. Instrumented.
#pragma once

#include <memory>

#include "sentry/vfs/file.h"

namespace ukcov::sentry {

class HostFile final : public File {
 public:
  // One for all: it has no state.
  static std::shared_ptr<HostFile> Get();

  bool Passthrough() const override { return true; }
  Answer ReadWrite(Kernel&, Syscall&, const IoArgs&) override { return Answer::Continue(); }
  Answer Seek(Kernel&, Syscall&, int64_t, unsigned) override { return Answer::Continue(); }
  Answer Fsync(Kernel&, Syscall&) override { return Answer::Continue(); }
  Answer Ioctl(Kernel&, Syscall&, unsigned, uint64_t) override { return Answer::Continue(); }
  Answer Mmap(Kernel&, Syscall&, const MmapArgs&) override { return Answer::Continue(); }
  Answer Fallocate(Kernel&, Syscall&, int, int64_t, int64_t) override { return Answer::Continue(); }
  Answer Getdents(Kernel&, Syscall&, uint64_t, uint64_t, bool) override { return Answer::Continue(); }
  Answer CopyRange(Kernel&, Syscall&, bool) override { return Answer::Continue(); }
};

}  // namespace ukcov::sentry
