// Serving: which task a host thread runs kernel code for, and remote
// sections (Linux kcov_start/kcov_stop on current, kcov_remote_start/stop).
#pragma once

#include <cstdint>

namespace ukcov::engine {

class Engine;
class Task;

void Enter(Task& task);
void Leave();
Task* Current();

// After an ioctl changed `task`'s instance: if this thread serves the task,
// start or stop recording now, so the ioctl's own return path is traced.
void RefreshServing(Task& task);
// KCOV_RESET_TRACE by the task this thread serves: with the counters
// backend, the blocks counted so far in this call ran before the reset and
// are dropped (the trace backend rewound the count already).
void ResetServing(Task& task);

// 0, -ENOENT (no instance registered the handle), -EBUSY (this thread is
// collecting already), -ENOMEM.
int RemoteStart(Engine& engine, uint64_t handle);
void RemoteStop();

}  // namespace ukcov::engine
