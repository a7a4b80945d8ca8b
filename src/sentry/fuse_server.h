// The FUSE connection of the served debugfs (interception mode "served",
// docs/sentry.md): one thread reads the host's requests from /dev/fuse
// (libfuse's low-level API decodes and answers them) and passes each to
// debugfs::Served, in the calling guest task's context so that its
// coverage is recorded as for a trapped call. Plumbing: not instrumented.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "base/unique_fd.h"
#include "ukcov/result.hpp"

struct fuse_session;

namespace ukcov::sentry {

class Kernel;
struct TaskState;
namespace debugfs {
class Served;
}

class FuseServer {
 public:
  // Runs `fn` as guest task `tid` (its coverage recorded; exits the host
  // has reported settled first when `settle`). False: not a guest task.
  using RunAs = std::function<bool(pid_t tid, bool settle, const std::function<void(TaskState&)>& fn)>;

  FuseServer(Kernel& kernel, debugfs::Served& served, RunAs run_as);
  ~FuseServer();

  // `device`: /dev/fuse, mounted by the guest (launcher.cc) before this.
  Result<void> Start(UniqueFd device, std::string* error);
  // Ends the thread (the connection ends with the guest's mount namespace).
  void Stop();

  // Requests read so far (`ukcov run --stats`).
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

  // Internal: the request handlers (fuse_server.cc) reach these.
  Kernel& kernel() { return kernel_; }
  debugfs::Served& served() { return served_; }
  const RunAs& run_as() const { return run_as_; }

 private:
  void Loop();

  Kernel& kernel_;
  debugfs::Served& served_;
  RunAs run_as_;
  UniqueFd device_;
  UniqueFd stop_;  // eventfd
  fuse_session* session_ = nullptr;
  std::thread thread_;
  std::atomic<uint64_t> requests_{0};
};

}  // namespace ukcov::sentry
