#include "sentry/guest_memory.h"

#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

namespace ukcov::sentry {

bool GuestMemory::StillPending() const {
  if (listener_ < 0) return true;
  uint64_t id = id_;
  return ioctl(listener_, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

Result<void> GuestMemory::Read(uint64_t address, void* dst, size_t length) const {
  if (length == 0) return {};
  if (address + length < address) return Errno{EFAULT};
  iovec local{dst, length};
  iovec remote{reinterpret_cast<void*>(address), length};
  ssize_t n = process_vm_readv(tid_, &local, 1, &remote, 1, 0);
  if (n != static_cast<ssize_t>(length)) return Errno{EFAULT};
  if (!StillPending()) return Errno{EFAULT};  // read from whoever has the tid now
  return {};
}

Result<void> GuestMemory::Write(uint64_t address, const void* src, size_t length) const {
  if (length == 0) return {};
  if (address + length < address) return Errno{EFAULT};
  if (!StillPending()) return Errno{EFAULT};
  iovec local{const_cast<void*>(src), length};
  iovec remote{reinterpret_cast<void*>(address), length};
  ssize_t n = process_vm_writev(tid_, &local, 1, &remote, 1, 0);
  if (n != static_cast<ssize_t>(length)) return Errno{EFAULT};
  return {};
}

namespace {

constexpr size_t kPage = 4096;

// The remote range as one iovec per page: process_vm_readv/writev stop at
// the first element that fails, and never split one.
size_t PageVectors(uint64_t address, size_t length, iovec* out, size_t max) {
  size_t n = 0;
  while (length > 0 && n < max) {
    size_t piece = std::min<size_t>(length, kPage - address % kPage);
    out[n++] = {reinterpret_cast<void*>(address), piece};
    address += piece;
    length -= piece;
  }
  return n;
}

// process_vm_readv or process_vm_writev of the range, page by page, up to
// the first page that fails.
using VmCall = ssize_t (*)(pid_t, const iovec*, unsigned long, const iovec*, unsigned long, unsigned long);
size_t TransferSome(VmCall call, pid_t tid, uint64_t address, char* local_base, size_t length) {
  size_t done = 0;
  while (done < length && address + done >= address) {
    iovec remote[64];
    size_t n = PageVectors(address + done, length - done, remote, std::size(remote));
    size_t want = 0;
    for (size_t i = 0; i < n; i++) want += remote[i].iov_len;
    iovec local{local_base + done, want};
    ssize_t got = call(tid, &local, 1, remote, n, 0);
    if (got <= 0) break;
    done += static_cast<size_t>(got);
    if (static_cast<size_t>(got) < want) break;
  }
  return done;
}

}  // namespace

size_t GuestMemory::ReadSome(uint64_t address, void* dst, size_t length) const {
  size_t done = TransferSome(process_vm_readv, tid_, address, static_cast<char*>(dst), length);
  if (done > 0 && !StillPending()) return 0;  // read from whoever has the tid now
  return done;
}

size_t GuestMemory::WriteSome(uint64_t address, const void* src, size_t length) const {
  if (!StillPending()) return 0;
  return TransferSome(process_vm_writev, tid_, address, const_cast<char*>(static_cast<const char*>(src)), length);
}

Result<std::string> GuestMemory::ReadString(uint64_t address, size_t max) const {
  // Read page by page: a string may end just before an unmapped page.
  std::string out;
  char chunk[4096];
  while (out.size() < max) {
    size_t to_page_end = 4096 - (address % 4096);
    size_t want = std::min({sizeof chunk, to_page_end, max - out.size()});
    if (!Read(address, chunk, want)) return Errno{EFAULT};
    if (const void* nul = std::memchr(chunk, '\0', want)) {
      out.append(chunk, static_cast<const char*>(nul) - chunk);
      return out;
    }
    out.append(chunk, want);
    address += want;
  }
  return Errno{ENAMETOOLONG};
}

ukcov_user_memory GuestMemory::ForEngine() const {
  return {const_cast<GuestMemory*>(this), [](void* self, void* dst, uint64_t address, size_t length) -> int {
            return static_cast<GuestMemory*>(self)->Read(address, dst, length) ? 0 : -EFAULT;
          }};
}

}  // namespace ukcov::sentry
