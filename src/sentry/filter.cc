#include "sentry/filter.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "sentry/seccomp_compat.h"
#include "sentry/syscalls/syscalls.h"

namespace ukcov::sentry {

namespace {

// Argument `arg` holds a negative 32-bit int (an fd): its sign bit.
scmp_arg_cmp NegativeInt(unsigned arg) { return SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, 0x80000000u, 0x80000000u); }

// The rules of one entry: each is a list of comparisons that must all
// hold (libseccomp ANDs a rule's comparisons, ORs its rules); an empty list
// traps every call.
std::vector<std::vector<scmp_arg_cmp>> Rules(const syscalls::SyscallEntry& e, Interception mode) {
  std::vector<scmp_arg_cmp> base;  // what `trap` itself selects
  std::vector<std::vector<scmp_arg_cmp>> rules;
  if (e.trap == syscalls::Trap::kFileMappings) {  // arg 3 is mmap's flags
    base.push_back(SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0));
  } else if (e.trap == syscalls::Trap::kArg1In) {
    for (uint64_t value : e.arg1_values) {  // 32-bit ints in the ABI: the low half only
      std::vector<scmp_arg_cmp> rule{SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, value)};
      if (mode == Interception::kServed && e.served == syscalls::Served::kBadFd) rule.push_back(NegativeInt(0));
      if (mode == Interception::kAll || e.served != syscalls::Served::kNever) rules.push_back(rule);
    }
    return rules;
  }
  if (mode == Interception::kAll) return {base};
  auto with = [&](scmp_arg_cmp c) {
    std::vector<scmp_arg_cmp> rule = base;
    rule.push_back(c);
    rules.push_back(rule);
  };
  switch (e.served) {
    case syscalls::Served::kAlways: return {base};
    case syscalls::Served::kNever: return {};
    case syscalls::Served::kBadFd: with(NegativeInt(0)); break;
    case syscalls::Served::kBadFdOrEmpty:
    case syscalls::Served::kBadFdOrNoIov:
      with(NegativeInt(0));
      with(SCMP_A2(SCMP_CMP_EQ, 0));
      break;
    case syscalls::Served::kBadFdOrArg1In:
      with(NegativeInt(0));
      for (uint64_t value : e.served_arg1) with(SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, value));
      break;
  }
  return rules;
}

}  // namespace

Result<Filter> Filter::Build(const HostFeatures& features, Interception mode, std::string* error) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return *error = "seccomp_init failed", Errno{EINVAL};
  struct Release {
    scmp_filter_ctx c;
    ~Release() { seccomp_release(c); }
  } release{ctx};
  // Only x86-64 syscalls are interpreted; a 32-bit entry (int 0x80) or x32
  // call could otherwise bypass the sentry.
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
  if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);  // binary tree of syscall numbers
  for (const syscalls::SyscallEntry& e : syscalls::Table()) {
    if (rc != 0) break;
    if (e.trap == syscalls::Trap::kWithoutThreadPidfd && features.pidfd_thread) continue;
    for (const std::vector<scmp_arg_cmp>& rule : Rules(e, mode)) {
      if (rc == 0)
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, e.nr, static_cast<unsigned>(rule.size()),
                                    rule.empty() ? nullptr : rule.data());
    }
  }
  if (rc != 0) return *error = std::string("building the seccomp filter: ") + std::strerror(-rc), Errno{EINVAL};

  UniqueFd out(memfd_create("ukcov-bpf", MFD_CLOEXEC));
  if (!out) return *error = "memfd_create failed", Errno{errno};
  if ((rc = seccomp_export_bpf(ctx, out.get())) != 0)
    return *error = std::string("exporting the seccomp filter: ") + std::strerror(-rc), Errno{EINVAL};
  off_t size = lseek(out.get(), 0, SEEK_END);
  Filter filter;
  filter.program_.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(out.get(), filter.program_.data(), static_cast<size_t>(size), 0) != size)
    return *error = "reading the seccomp filter back", Errno{EIO};
  return filter;
}

int Filter::LoadWithListener() const {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  sock_fprog prog{static_cast<unsigned short>(program_.size()), const_cast<sock_filter*>(program_.data())};
  // A guest blocked in a trapped syscall stays killable but ignores other
  // signals once the sentry has received it (5.19+, required: see
  // host_features.h), so no call is served twice.
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace ukcov::sentry
