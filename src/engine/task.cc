#include "engine/task.h"

#include <new>

#include "engine/instance.h"

namespace ukcov::engine {

Task* Task::Create(Engine& engine, uint64_t common_handle) {
  return new (std::nothrow) Task(engine, common_handle);
}

Task* Task::Fork() {
  std::lock_guard lock(mu);
  return Create(*engine_, handle);
}

void Task::Exit() {
  Instance* instance;
  bool drop_owner_ref;
  {
    std::lock_guard lock(mu);
    instance = kcov;
    if (instance == nullptr) return;
    drop_owner_ref = instance->DisableForExit(*this);
  }
  if (drop_owner_ref) instance->Unref();
}

uint64_t Task::common_handle() {
  std::lock_guard lock(mu);
  return handle;
}

}  // namespace ukcov::engine
