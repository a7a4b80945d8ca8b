#include "engine/serve.h"

#include <cerrno>
#include <mutex>
#include <new>
#include <utility>

#include "engine/counters.h"
#include "engine/engine.h"
#include "engine/instance.h"
#include "engine/run_coverage.h"
#include "engine/slot.h"
#include "engine/task.h"

namespace ukcov::engine {

// An open remote section: the instance it appends to (a reference is held)
// and the temporary area the callbacks write meanwhile.
struct RemoteSection {
  Instance* instance;
  uint32_t sequence;
  RecordMode mode;
  uint64_t words;
  RemoteArea area;
};

namespace {

void Publish(Slot& s, Engine& engine, RecordMode mode) {
  // The PC callbacks add the bias without a range check only when that is
  // exact for every instrumented module.
  if (mode == RecordMode::kTracePc && !engine.PcMapCoversInstrumentation()) mode = RecordMode::kTracePcRanged;
  if (mode == RecordMode::kUniquePc && !engine.PcMapCoversInstrumentation()) mode = RecordMode::kUniquePcRanged;
  if (engine.run_coverage()) mode = WithRun(mode);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  StoreMode(s, mode);
}

void Silence(Slot& s) {
  StoreMode(s, RecordMode::kOff);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void SetPcMap(Slot& s, const PcMap& map) {
  s.pc_lo = map.lo;
  s.pc_len = map.len;
  s.pc_bias = map.bias;
}

// Points the slot at the area of the instance `task` owns, if it records.
// The mode to publish: kOff when it does not.
RecordMode StartRecording(Slot& s, Task& task) {
  std::lock_guard task_lock(task.mu);
  Instance* instance = task.kcov;
  if (instance == nullptr) return RecordMode::kOff;
  std::lock_guard instance_lock(instance->mu);
  if (instance->owner() != &task) return RecordMode::kOff;
  Instance::View view = instance->RecordingView();
  if (view.mode == RecordMode::kOff) return RecordMode::kOff;
  instance->Ref();  // the area stays mapped while this slot writes to it
  s.pinned = instance;
  s.trace = view.trace;
  s.limit = view.limit;
  s.bitmap = view.bitmap;
  s.bitmap_last = view.bitmap_bits == 0 ? 0 : view.bitmap_bits - 1;
  SetPcMap(s, task.engine().pc_map());
  return view.mode;
}

// The slot as it is while `task` is served outside a remote section: its
// kcov recording, and the run's coverage.
void StartServing(Slot& s, Task& task) {
  RecordMode mode = RecordMode::kOff;
  if (task.has_kcov.load(std::memory_order_acquire)) mode = StartRecording(s, task);
  if (mode != RecordMode::kOff || task.engine().run_coverage()) Publish(s, task.engine(), mode);
}

void StopRecording(Slot& s) {
  Silence(s);
  s.trace = nullptr;
  s.limit = 0;
  s.bitmap = nullptr;
  s.bitmap_last = 0;
  if (Instance* pinned = std::exchange(s.pinned, nullptr)) pinned->Unref();
}

}  // namespace

namespace {

bool CountersBackend(const Engine& engine) { return engine.features() & UKCOV_FEATURE_COUNTERS; }

// Counters backend: what the counters hold when recording starts is not
// this recording's.
// With the run's coverage, always: the counters may hold blocks that ran
// outside any serving (the host's own start-up, its other threads), which
// are not the run's.
void StartCounting(Slot& s, const Engine& engine) {
  if (!CountersBackend(engine)) return;
  if (LoadMode(s) == RecordMode::kOff) {
    NoteUncollected();  // these blocks are nobody's
  } else if (!CountersClean() || HasRun(LoadMode(s))) {
    DiscardCounters();
  }
}

// Counters backend: the blocks that ran become the recording's PCs (and
// the run's).
void FinishCounting(Slot& s, const Engine& engine) {
  if (!CountersBackend(engine) || LoadMode(s) == RecordMode::kOff) return;
  if (HasRun(LoadMode(s))) FoldCounters();
  CollectCounters(s, engine.synthetic_pcs());
}

}  // namespace

void Enter(Task& task) {
  Slot& s = t_slot;
  if (s.task != nullptr) Leave();
  task.Ref();
  s.task = &task;
  // A remote section in progress keeps the slot; the task's own recording
  // starts when it ends.
  if (s.remote == nullptr) {
    StartServing(s, task);
    StartCounting(s, task.engine());
  }
}

void Leave() {
  Slot& s = t_slot;
  if (s.remote == nullptr && s.task != nullptr) FinishCounting(s, s.task->engine());
  if (s.remote == nullptr) StopRecording(s);
  if (Task* task = std::exchange(s.task, nullptr)) task->Unref();
}

Task* Current() { return t_slot.task; }

void RefreshServing(Task& task) {
  Slot& s = t_slot;
  if (s.task != &task || s.remote != nullptr) return;
  FinishCounting(s, task.engine());  // what ran so far goes where it was recorded
  StopRecording(s);
  StartServing(s, task);
  StartCounting(s, task.engine());
}

void ResetServing(Task& task) {
  Slot& s = t_slot;
  if (s.task != &task || s.remote != nullptr) return;
  if (!CountersBackend(task.engine()) || LoadMode(s) == RecordMode::kOff) return;
  if (HasRun(LoadMode(s))) FoldCounters();  // they ran all the same
  DiscardCounters();
}

int RemoteStart(Engine& engine, uint64_t handle) {
  Slot& s = t_slot;
  // Linux refuses a second section, and a section in a task that has kcov.
  if (s.remote != nullptr || KcovPart(LoadMode(s)) != RecordMode::kOff) return -EBUSY;
  if (s.task != nullptr && s.task->has_kcov.load(std::memory_order_acquire)) return -EBUSY;

  auto* section = new (std::nothrow) RemoteSection{};
  if (section == nullptr) return -ENOMEM;
  {
    std::lock_guard lock(engine.remote_mu);
    Instance* instance = engine.FindHandle(handle);
    if (instance == nullptr) {
      delete section;
      return -ENOENT;
    }
    Instance::RemoteParams params = instance->remote_params();
    if (params.area_words != 0) section->area = engine.TakeRemoteArea(params.area_words);
    if (!section->area) {  // Linux: vmalloc failed (or size 0): no section
      delete section;
      return -ENOMEM;
    }
    instance->Ref();  // dropped in RemoteStop
    section->instance = instance;
    section->sequence = params.sequence;
    section->mode = params.mode;
    section->words = params.area_words;
  }
  uint64_t* area = section->area.get();
  area[0] = 0;
  s.remote = section;
  s.trace = area;
  s.limit = section->mode == RecordMode::kTraceCmp ? (section->words - 1) / UKCOV_KCOV_WORDS_PER_CMP : section->words;
  s.bitmap = nullptr;
  s.bitmap_last = 0;
  SetPcMap(s, engine.pc_map());
  Publish(s, engine, section->mode);
  StartCounting(s, engine);
  return 0;
}

void RemoteStop() {
  Slot& s = t_slot;
  RemoteSection* section = s.remote;
  if (section == nullptr) return;
  FinishCounting(s, section->instance->engine());
  Silence(s);
  s.remote = nullptr;
  s.trace = nullptr;
  s.limit = 0;
  Instance* instance = section->instance;
  Engine& engine = instance->engine();
  instance->AppendRemote(section->sequence, section->mode, section->area.get());
  {
    std::lock_guard lock(engine.remote_mu);
    engine.ReturnRemoteArea(std::move(section->area), section->words);
  }
  delete section;
  instance->Unref();
  if (s.task != nullptr) StartServing(s, *s.task);
}

}  // namespace ukcov::engine
