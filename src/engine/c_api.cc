// The C API: thin glue from opaque handles to the engine's classes.
#include <cerrno>

#include "engine/engine.h"
#include "engine/instance.h"
#include "engine/serve.h"
#include "engine/task.h"
#include "ukcov/ukcov.h"

using ukcov::engine::Engine;
using ukcov::engine::Instance;
using ukcov::engine::Task;

namespace {

Engine* E(ukcov_engine* e) { return reinterpret_cast<Engine*>(e); }
const Engine* E(const ukcov_engine* e) { return reinterpret_cast<const Engine*>(e); }
Task* T(ukcov_task* t) { return reinterpret_cast<Task*>(t); }
ukcov_task* T(Task* t) { return reinterpret_cast<ukcov_task*>(t); }
Instance* I(ukcov_instance* i) { return reinterpret_cast<Instance*>(i); }
const Instance* I(const ukcov_instance* i) { return reinterpret_cast<const Instance*>(i); }

}  // namespace

extern "C" {

void ukcov_engine_options_init(ukcov_engine_options* options) {
  options->pc_encoding = UKCOV_PC_CANONICAL;
  options->pc_module = nullptr;
  options->features = -1;
  options->run_coverage = 0;
}

int ukcov_engine_create(const ukcov_engine_options* options, ukcov_engine** out) {
  ukcov_engine_options defaults;
  if (options == nullptr) {
    ukcov_engine_options_init(&defaults);
    options = &defaults;
  }
  auto engine = Engine::Create(*options);
  if (!engine) return -engine.error();
  *out = reinterpret_cast<ukcov_engine*>(engine.value());
  return 0;
}

void ukcov_engine_destroy(ukcov_engine* engine) {
  if (engine != nullptr) E(engine)->Unref();
}

unsigned ukcov_engine_features(const ukcov_engine* engine) { return E(engine)->features(); }

long ukcov_engine_run_coverage(ukcov_engine* engine, void (*visit)(void* context, uint64_t pc), void* context) {
  if (!E(engine)->run_coverage()) return -EINVAL;
  long n = 0;
  E(engine)->VisitRunCoverage([&](uint64_t pc) {
    if (visit != nullptr) visit(context, pc);
    n++;
  });
  return n;
}

void ukcov_engine_get_stats(ukcov_engine* engine, ukcov_engine_stats* out) {
  out->tasks = static_cast<uint64_t>(E(engine)->live_tasks.load());
  out->instances = static_cast<uint64_t>(E(engine)->live_instances.load());
  out->handles = E(engine)->handle_count();
}

void ukcov_engine_pc_map(const ukcov_engine* engine, ukcov_pc_map* out) {
  const auto& map = E(engine)->pc_map();
  out->lo = map.lo;
  out->len = map.len;
  out->bias = map.bias;
  out->load_base = map.load_base;
}

uint64_t ukcov_engine_encode_pc(const ukcov_engine* engine, uintptr_t address) {
  return E(engine)->pc_map().Encode(address);
}

ukcov_task* ukcov_task_create(ukcov_engine* engine) { return T(Task::Create(*E(engine), 0)); }

ukcov_task* ukcov_task_fork(ukcov_task* parent) { return T(T(parent)->Fork()); }

void ukcov_task_exited(ukcov_task* task) { T(task)->Exit(); }

void ukcov_task_exit(ukcov_task* task) {
  T(task)->Exit();
  T(task)->Unref();
}

uint64_t ukcov_task_common_handle(ukcov_task* task) { return T(task)->common_handle(); }

void ukcov_enter(ukcov_task* task) { ukcov::engine::Enter(*T(task)); }

void ukcov_leave(void) { ukcov::engine::Leave(); }

ukcov_task* ukcov_current(void) { return T(ukcov::engine::Current()); }

uint64_t ukcov_common_handle(void) {
  Task* task = ukcov::engine::Current();
  return task == nullptr ? 0 : task->common_handle();
}

int ukcov_instance_open(ukcov_engine* engine, ukcov_instance** out) {
  auto instance = Instance::Open(*E(engine));
  if (!instance) return -instance.error();
  *out = reinterpret_cast<ukcov_instance*>(instance.value());
  return 0;
}

void ukcov_instance_get(ukcov_instance* instance) { I(instance)->Ref(); }

void ukcov_instance_put(ukcov_instance* instance) { I(instance)->Unref(); }

long ukcov_instance_ioctl(ukcov_instance* instance, ukcov_task* caller, unsigned int cmd, unsigned long arg,
                          const ukcov_user_memory* memory) {
  return I(instance)->Ioctl(*T(caller), cmd, arg, memory);
}

int ukcov_instance_mmap_check(ukcov_instance* instance, uint64_t pgoff, uint64_t length) {
  return I(instance)->MmapCheck(pgoff, length);
}

int ukcov_instance_area_fd(const ukcov_instance* instance) { return I(instance)->area_fd(); }

uint64_t* ukcov_instance_area(ukcov_instance* instance, uint64_t* words) { return I(instance)->Area(words); }

int ukcov_remote_start(ukcov_engine* engine, uint64_t handle) {
  return ukcov::engine::RemoteStart(*E(engine), handle);
}

void ukcov_remote_stop(void) { ukcov::engine::RemoteStop(); }

}  // extern "C"
