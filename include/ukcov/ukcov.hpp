// The C++ API of libukcov: RAII owners over the C API in ukcov.h.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include "ukcov/result.hpp"
#include "ukcov/ukcov.h"

namespace ukcov {

class Engine {
 public:
  static Result<Engine> Create(const ukcov_engine_options* options = nullptr) {
    ukcov_engine* e = nullptr;
    int r = ukcov_engine_create(options, &e);
    if (r != 0) return Errno{-r};
    return Engine(e);
  }
  ukcov_engine* get() const { return e_.get(); }
  unsigned features() const { return ukcov_engine_features(e_.get()); }
  uint64_t EncodePc(uintptr_t address) const { return ukcov_engine_encode_pc(e_.get(), address); }
  ukcov_engine_stats stats() const {
    ukcov_engine_stats s;
    ukcov_engine_get_stats(e_.get(), &s);
    return s;
  }

 private:
  struct Deleter {
    void operator()(ukcov_engine* e) const { ukcov_engine_destroy(e); }
  };
  explicit Engine(ukcov_engine* e) : e_(e) {}
  std::unique_ptr<ukcov_engine, Deleter> e_;
};

// A guest thread. Destroying the object is the thread's exit.
class Task {
 public:
  static Result<Task> Create(Engine& engine) { return Wrap(ukcov_task_create(engine.get())); }
  Result<Task> Fork() { return Wrap(ukcov_task_fork(t_.get())); }
  // The thread exited and this handle goes.
  void Exit() { t_.reset(); }
  // The thread exited; the handle stays valid for whoever still serves it.
  void Exited() const { ukcov_task_exited(t_.get()); }
  uint64_t common_handle() const { return ukcov_task_common_handle(t_.get()); }
  ukcov_task* get() const { return t_.get(); }
  explicit operator bool() const { return t_ != nullptr; }

 private:
  struct Deleter {
    void operator()(ukcov_task* t) const { ukcov_task_exit(t); }
  };
  static Result<Task> Wrap(ukcov_task* t) {
    if (t == nullptr) return Errno{12 /* ENOMEM */};
    return Task(t);
  }
  explicit Task(ukcov_task* t) : t_(t) {}
  std::unique_ptr<ukcov_task, Deleter> t_;
};

// A reference to an open kcov file. Destroying the last one is the last close.
class Instance {
 public:
  static Result<Instance> Open(Engine& engine) {
    ukcov_instance* i = nullptr;
    int r = ukcov_instance_open(engine.get(), &i);
    if (r != 0) return Errno{-r};
    return Instance(i);
  }
  Instance Share() const {
    ukcov_instance_get(i_.get());
    return Instance(i_.get());
  }
  long Ioctl(const Task& caller, unsigned int cmd, unsigned long arg,
             const ukcov_user_memory* memory = nullptr) const {
    return ukcov_instance_ioctl(i_.get(), caller.get(), cmd, arg, memory);
  }
  int MmapCheck(uint64_t pgoff, uint64_t length) const { return ukcov_instance_mmap_check(i_.get(), pgoff, length); }
  int area_fd() const { return ukcov_instance_area_fd(i_.get()); }
  std::span<uint64_t> area() const {
    uint64_t words = 0;
    uint64_t* a = ukcov_instance_area(i_.get(), &words);
    return {a, static_cast<size_t>(words)};
  }
  ukcov_instance* get() const { return i_.get(); }
  void Close() { i_.reset(); }

 private:
  struct Deleter {
    void operator()(ukcov_instance* i) const { ukcov_instance_put(i); }
  };
  explicit Instance(ukcov_instance* i) : i_(i) {}
  std::unique_ptr<ukcov_instance, Deleter> i_;
};

// This thread runs kernel code for `task` while the object lives.
class Serving {
 public:
  explicit Serving(const Task& task) { ukcov_enter(task.get()); }
  ~Serving() { ukcov_leave(); }
  Serving(const Serving&) = delete;
  Serving& operator=(const Serving&) = delete;
};

// A remote coverage section on this thread while the object lives.
class RemoteSection {
 public:
  RemoteSection(const Engine& engine, uint64_t handle) : status_(ukcov_remote_start(engine.get(), handle)) {}
  ~RemoteSection() {
    if (status_ == 0) ukcov_remote_stop();
  }
  RemoteSection(const RemoteSection&) = delete;
  RemoteSection& operator=(const RemoteSection&) = delete;
  int status() const { return status_; }  // 0 when collecting, else -errno

 private:
  int status_;
};

}  // namespace ukcov
