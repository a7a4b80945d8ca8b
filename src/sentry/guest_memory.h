// A guest process's memory, through process_vm_readv/writev: any bad pointer
// is EFAULT, never a fault in the sentry. Plumbing: not instrumented.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ukcov/result.hpp"
#include "ukcov/ukcov.h"

namespace ukcov::sentry {

class GuestMemory {
 public:
  explicit GuestMemory(pid_t tid) : tid_(tid) {}

  Result<void> Read(uint64_t address, void* dst, size_t length) const;
  Result<void> Write(uint64_t address, const void* src, size_t length) const;
  // A NUL-terminated string of at most `max` bytes including the NUL:
  // EFAULT, or ENAMETOOLONG when no NUL comes within `max`.
  Result<std::string> ReadString(uint64_t address, size_t max) const;

  template <class T>
  Result<void> Write(uint64_t address, const T& value) const {
    return Write(address, &value, sizeof value);
  }

  // For the engine's ioctls that take pointers.
  ukcov_user_memory ForEngine() const;

 private:
  pid_t tid_;
};

}  // namespace ukcov::sentry
