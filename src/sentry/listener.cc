#include "sentry/listener.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "sentry/seccomp_compat.h"

namespace ukcov::sentry {

Listener::Listener(UniqueFd fd) : fd_(std::move(fd)) {}

Result<void> Listener::Receive(seccomp_notif* out) {
  std::memset(out, 0, sizeof *out);  // the kernel insists on a zeroed buffer
  if (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_RECV, out) == 0) return {};
  return Errno{errno};
}

bool Listener::Send(seccomp_notif_resp& resp) {
  // ENOENT: the guest was killed or its syscall interrupted by a signal; it
  // will restart or never look. Nothing to do either way.
  return ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0;
}

bool Listener::Continue(uint64_t id) {
  seccomp_notif_resp resp{};
  resp.id = id;
  resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  return Send(resp);
}

bool Listener::Return(uint64_t id, int64_t value) {
  seccomp_notif_resp resp{};
  resp.id = id;
  resp.val = value;
  return Send(resp);
}

bool Listener::Fail(uint64_t id, int error) {
  seccomp_notif_resp resp{};
  resp.id = id;
  resp.error = -error;
  return Send(resp);
}

int64_t Listener::InstallFdAndReturn(uint64_t id, int fd, bool cloexec) {
  seccomp_notif_addfd addfd{};
  addfd.id = id;
  addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
  addfd.srcfd = static_cast<uint32_t>(fd);
  addfd.newfd_flags = cloexec ? O_CLOEXEC : 0;
  int r = ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
  return r >= 0 ? r : -errno;
}

bool Listener::EnableSyncWakeUp() {
  return ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
}

}  // namespace ukcov::sentry
