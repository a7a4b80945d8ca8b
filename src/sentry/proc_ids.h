// A thread's ids from /proc: the supervisor's and the exec tracer's.
// Plumbing: not instrumented.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace ukcov::sentry {

// Tgid and PPid of a thread, from /proc; 0 when it is gone.
inline void ReadIds(pid_t tid, pid_t* tgid, pid_t* ppid) {
  *tgid = *ppid = 0;
  std::ifstream status("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Tgid:", 0) == 0) *tgid = std::atoi(line.c_str() + 5);
    if (line.rfind("PPid:", 0) == 0) *ppid = std::atoi(line.c_str() + 5);
  }
}

// Whether `tid` is one of the sentry's own threads: a signal 0 to it as a
// thread of this process reaches it (one syscall, no /proc read).
inline bool IsOwnThread(pid_t tid) { return syscall(SYS_tgkill, getpid(), tid, 0) == 0; }

}  // namespace ukcov::sentry
