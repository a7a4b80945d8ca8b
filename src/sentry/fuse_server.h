// A FUSE connection of a served filesystem (interception mode "served",
// docs/sentry.md: debugfs, and each --tmpfs mount): one thread reads the
// host's requests from /dev/fuse (libfuse's low-level API decodes them and
// calls the filesystem's request table) and a second runs each in the
// calling guest task's context, so that its coverage is recorded as for a
// trapped call. The reader answers itself
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
#include <utility>
#include <vector>

#include "base/unique_fd.h"
#include "ukcov/result.hpp"

struct fuse_session;
struct fuse_lowlevel_ops;

namespace ukcov::sentry {

class Kernel;
struct TaskState;

class FuseServer {
 public:
  // Runs `fn` as guest task `tid` (its coverage recorded; exits the host
  // has reported settled first when `settle`). False: not a guest task.
  using RunAs = std::function<bool(pid_t tid, bool settle, const std::function<void(TaskState&)>& fn)>;

  // `ops`: the filesystem's request table; `context`: what its requests
  // serve (context<T>()); `name`: for errors.
  FuseServer(Kernel& kernel, const fuse_lowlevel_ops& ops, void* context, std::string name, RunAs run_as);
  ~FuseServer();

  // `device`: /dev/fuse, mounted by the guest (launcher.cc) before this.
  Result<void> Start(UniqueFd device, std::string* error);
  // Ends the thread (the connection ends with the guest's mount namespace).
  void Stop();

  // Runs `work` on the executor thread, in order.
  void Defer(std::function<void()> work);

  // A request this libfuse predates (FUSE_STATX): `handler` gets it whole
  // (fuse_in_header first) instead of libfuse, and answers with Reply.
  using RawHandler = std::function<void(FuseServer& server, const std::vector<char>& request)>;
  void HandleRaw(uint32_t opcode, RawHandler handler);
  // The answer to the raw request `unique`: -errno, or the reply's body.
  void Reply(uint64_t unique, int error, const void* body, size_t size);

  // Tells the host that what it caches of the node's attributes is stale
  // (a change it did not ask for, such as chattr's ctime).
  void InvalidateAttributes(uint64_t node);

  // Returns once every request the host had queued when it was called has
  // been read and, if the reader answers it (a forget, a release), answered:
  // what the host has let go of is gone from the filesystem (a statfs the
  // sentry answers itself counts it as Linux's would). Not from the reader.
  void Settle();

  // Requests read so far (`ukcov run --stats`).
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

  // Internal: the request handlers (fuse_server.cc) reach these.
  Kernel& kernel() { return kernel_; }
  template <class T>
  T& context() { return *static_cast<T*>(context_); }
  const RunAs& run_as() const { return run_as_; }

 private:
  void Loop();
  void Execute();

  Kernel& kernel_;
  const fuse_lowlevel_ops& ops_;
  void* const context_;
  const std::string name_;
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
  std::vector<std::pair<uint32_t, RawHandler>> raw_;  // set before Start
  std::mutex settle_mu_;
  std::condition_variable settle_cv_;
  bool busy_ = false;       // guarded by settle_mu_: a request in hand
  bool ended_ = false;      // guarded by settle_mu_: the reader has stopped
  uint64_t processed_ = 0;  // guarded by settle_mu_
};

// The request tables: the served debugfs's (fuse_server.cc) and a served
// tmpfs's (fuse_tmpfs.cc).
const fuse_lowlevel_ops& DebugfsFuseOps();
const fuse_lowlevel_ops& TmpfsFuseOps();
// What a served tmpfs answers beyond libfuse's table (fuse_tmpfs.cc).
void AddTmpfsRawHandlers(FuseServer& server);

}  // namespace ukcov::sentry
