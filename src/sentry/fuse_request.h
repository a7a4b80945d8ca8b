// What the request tables of the served filesystems (fuse_server.cc,
// fuse_tmpfs.cc) share: the connection a request came on, and running a
// request in its caller's task context. Plumbing: not instrumented.
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35
#endif
#include <fuse_lowlevel.h>

#include <utility>

#include "sentry/fuse_server.h"
#include "sentry/kernel.h"
#include "sentry/proc_ids.h"

namespace ukcov::sentry {

inline FuseServer& Server(fuse_req_t req) { return *static_cast<FuseServer*>(fuse_req_userdata(req)); }

// Runs `fn` in the caller's task context, on the executor thread: the
// reader must never wait for a task. A request of the sentry's own (its
// LookupFd's fstat of a borrowed fd) is answered by the reader at once,
// with no task: the worker that made it may hold the kernel (the counters
// backend serves one task at a time), and a guest's request queued before
// it on the executor may be waiting for that very worker. `fn` gets the
// task, or null (not a guest task's request).
template <class F>
void RunAsCaller(FuseServer& server, pid_t tid, bool settle, F fn) {
  if (IsOwnThread(tid)) {
    fn(nullptr);
    return;
  }
  // With the trace backend a request that needs no settling waits for
  // nothing (no task is waited for, and the kernel is never held): the
  // reader runs it at once, saving a thread's wake-up per request. With the
  // counters backend it may wait for a worker that serves one task (Kernel::
  // Running), which may itself be waiting for the reader's answer to one of
  // its own requests.
  if (!settle && !server.kernel().serializes()) {
    if (!server.run_as()(tid, settle, [&](TaskState& task) { fn(&task); })) fn(nullptr);
    return;
  }
  server.Defer([&server, tid, settle, fn = std::move(fn)]() mutable {
    if (!server.run_as()(tid, settle, [&](TaskState& task) { fn(&task); })) fn(nullptr);
  });
}

template <class F>
void AsCaller(fuse_req_t req, bool settle, F fn) {
  RunAsCaller(Server(req), fuse_req_ctx(req)->pid, settle, std::move(fn));
}

}  // namespace ukcov::sentry
