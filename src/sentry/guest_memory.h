// A guest process's memory, through process_vm_readv/writev: any bad pointer
// is EFAULT, never a fault in the sentry. Plumbing: not instrumented.
//
// The thread is named by its tid, which the kernel may give to another
// process once the guest thread is killed and reaped. So, as seccomp_unotify(2)
// requires of a supervisor, the notification is checked to be still pending
// (SECCOMP_IOCTL_NOTIF_ID_VALID) after each read, before what was read is
// acted on, and before each write: a stale notification reads as EFAULT and
// nothing is written.
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
  // `listener` and `id`: the notification being served (-1: none, for tests
  // that read their own memory).
  GuestMemory(pid_t tid, int listener, uint64_t id) : tid_(tid), listener_(listener), id_(id) {}

  Result<void> Read(uint64_t address, void* dst, size_t length) const;
  Result<void> Write(uint64_t address, const void* src, size_t length) const;
  // As much as can be copied from the start of the range, up to the first
  // page that cannot (copy_from_user/copy_to_user's partial copies): the
  // byte count, 0 when the first page fails or the notification is stale.
  size_t ReadSome(uint64_t address, void* dst, size_t length) const;
  size_t WriteSome(uint64_t address, const void* src, size_t length) const;
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
  bool StillPending() const;

  pid_t tid_;
  int listener_;
  uint64_t id_;
};

}  // namespace ukcov::sentry
