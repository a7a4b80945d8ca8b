// The FUSE connection of the served debugfs (interception mode "served",
// docs/sentry.md): one thread reads the host's requests from /dev/fuse
// (libfuse's low-level API decodes and answers them) and a second passes
// each to debugfs::Served, in the calling guest task's context so that its
// coverage is recorded as for a trapped call. The reader answers itself
// only what needs no task (a release, kWhoAmI): it never waits for a task,
// so a worker that asks the device's file something (LookupFd) while it
// serves a call always gets its answer. Plumbing: not instrumented.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
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

  // Runs `work` on the executor thread, in order.
  void Defer(std::function<void()> work);

  // Requests read so far (`ukcov run --stats`).
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

  // Internal: the request handlers (fuse_server.cc) reach these.
  Kernel& kernel() { return kernel_; }
  debugfs::Served& served() { return served_; }
  const RunAs& run_as() const { return run_as_; }

 private:
  void Loop();
  void Execute();

  Kernel& kernel_;
  debugfs::Served& served_;
  RunAs run_as_;
  UniqueFd device_;
  UniqueFd stop_;  // eventfd
  fuse_session* session_ = nullptr;
  std::thread thread_;
  std::atomic<uint64_t> requests_{0};
  std::thread executor_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::function<void()>> queue_;  // guarded by queue_mu_
  bool stopping_ = false;                    // guarded by queue_mu_
};

}  // namespace ukcov::sentry
