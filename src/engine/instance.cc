#include "engine/instance.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <climits>
#include <cstddef>
#include <memory>
#include <new>

#include "engine/serve.h"
#include "engine/task.h"
#include "ukcov/kcov.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace ukcov::engine {
namespace {

int ReadOwnMemory(void*, void* dst, uint64_t address, size_t length) {
  // process_vm_readv on ourselves turns a bad pointer into EFAULT instead of
  // a crash: in-process hosts get the same safety as the sentry.
  iovec local{dst, length};
  iovec remote{reinterpret_cast<void*>(address), length};
  ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  return n == static_cast<ssize_t>(length) ? 0 : -EFAULT;
}

int ReadUser(const ukcov_user_memory* memory, void* dst, uint64_t address, size_t length) {
  if (address + length < address) return -EFAULT;
  if (memory == nullptr) return ReadOwnMemory(nullptr, dst, address, length);
  return memory->read(memory->context, dst, address, length) == 0 ? 0 : -EFAULT;
}

// Linux kcov_check_handle.
bool CheckHandle(uint64_t handle, bool common_valid, bool uncommon_valid, bool zero_valid) {
  if (handle & ~(UKCOV_KCOV_SUBSYSTEM_MASK | UKCOV_KCOV_INSTANCE_MASK)) return false;
  switch (handle & UKCOV_KCOV_SUBSYSTEM_MASK) {
    case UKCOV_KCOV_SUBSYSTEM_COMMON:
      return (handle & UKCOV_KCOV_INSTANCE_MASK) ? common_valid : zero_valid;
    case UKCOV_KCOV_SUBSYSTEM_USB:
      return uncommon_valid;
    default:
      return false;
  }
}

}  // namespace

Result<Instance*> Instance::Open(Engine& engine) {
  UniqueFd memfd(memfd_create("kcov", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return Errno{errno};
  auto* instance = new (std::nothrow) Instance(engine, std::move(memfd));
  if (instance == nullptr) return Errno{ENOMEM};
  return instance;
}

long Instance::Ioctl(Task& caller, unsigned int cmd, unsigned long arg, const ukcov_user_memory* memory) {
  if (&caller.engine() != engine_) return -EINVAL;
  long r;
  switch (cmd) {
    case UKCOV_KCOV_INIT_TRACE:
      return InitTrace(arg);
    case UKCOV_KCOV_REMOTE_ENABLE:
      r = RemoteEnable(caller, arg, memory);
      break;
    default: {
      bool drop_owner_ref = false;
      {
        std::scoped_lock lock(caller.mu, mu);
        r = IoctlLocked(caller, cmd, arg, drop_owner_ref);
      }
      if (drop_owner_ref) Unref();  // the caller's own reference keeps us alive
      break;
    }
  }
  // ENABLE affects the calling task at once (Linux kcov_start on current).
  if (r == 0 && cmd != UKCOV_KCOV_RESET_TRACE) RefreshServing(caller);
  if (r == 0 && cmd == UKCOV_KCOV_RESET_TRACE) ResetServing(caller);
  return r;
}

long Instance::InitTrace(unsigned long size) {
  if (size < 2 || size > INT_MAX / sizeof(unsigned long)) return -EINVAL;
  const size_t bytes = size * sizeof(uint64_t);
  // Allocation comes before the state check, as in Linux: reserve the
  // address space now, back it with the memfd only once INIT is certain.
  Mapping area = Mapping::Reserve(bytes);
  if (!area.valid()) return -ENOMEM;
  std::lock_guard lock(mu);
  if (mode_ != KcovMode::kDisabled) return -EBUSY;
  if (ftruncate(memfd_.get(), static_cast<off_t>(bytes)) != 0) return -ENOMEM;
  if (mmap(area.get(), bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd_.get(), 0) == MAP_FAILED) {
    (void)ftruncate(memfd_.get(), 0);
    return -ENOMEM;
  }
  // The guest maps this very file: it must not be able to shrink it under
  // the engine's stores (SIGBUS) or grow it.
  (void)fcntl(memfd_.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  area_ = std::move(area);
  size_ = size;
  mode_ = KcovMode::kInit;
  return 0;
}

Result<KcovMode> Instance::ModeFor(unsigned long trace_mode) const {
  if (trace_mode == UKCOV_KCOV_TRACE_PC) return KcovMode::kTracePc;
  if (trace_mode == UKCOV_KCOV_TRACE_CMP) {
    if (!(engine_->features() & UKCOV_FEATURE_CMP)) return Errno{UKCOV_ENOTSUPP};
    return KcovMode::kTraceCmp;
  }
  return Errno{EINVAL};
}

void Instance::StartOwnership(Task& caller, KcovMode mode) {
  // Linux kcov_fault_in_area: no page faults later, in the callbacks.
  (void)madvise(area_.get(), area_.length(), MADV_POPULATE_WRITE);
  mode_ = mode;
  owner_ = &caller;
  caller.kcov = this;
  caller.has_kcov.store(true, std::memory_order_release);
  Ref();  // dropped by DISABLE or the owner's exit
}

long Instance::IoctlLocked(Task& caller, unsigned int cmd, unsigned long arg, bool& drop_owner_ref) {
  switch (cmd) {
    case UKCOV_KCOV_ENABLE:
      return Enable(caller, arg);
    case UKCOV_KCOV_UNIQUE_ENABLE:
      return UniqueEnable(caller, arg);
    case UKCOV_KCOV_DISABLE:
      if (arg != 0 || caller.kcov != this) return -EINVAL;
      if (owner_ != &caller) return -EINVAL;
      DisableLocked(caller);
      drop_owner_ref = true;
      return 0;
    case UKCOV_KCOV_RESET_TRACE:
      return ResetTrace(caller, arg);
    default:
      return -ENOTTY;
  }
}

long Instance::Enable(Task& caller, unsigned long trace_mode) {
  if (mode_ != KcovMode::kInit || !area_.valid()) return -EINVAL;
  if (owner_ != nullptr || caller.kcov != nullptr) return -EBUSY;
  Result<KcovMode> mode = ModeFor(trace_mode);
  if (!mode) return mode.negated();
  StartOwnership(caller, mode.value());
  return 0;
}

long Instance::UniqueEnable(Task& caller, unsigned long bitmap_words) {
  if (!(engine_->features() & UKCOV_FEATURE_GUARDS)) return -UKCOV_ENOTSUPP;
  if (mode_ != KcovMode::kInit || !area_.valid()) return -EINVAL;
  if (owner_ != nullptr || caller.kcov != nullptr) return -EBUSY;
  // A bitmap of at least one word that leaves at least two for the trace.
  if (bitmap_words == 0 || bitmap_words >= size_ - 1) return -EINVAL;
  bitmap_words_ = bitmap_words;
  StartOwnership(caller, KcovMode::kUniquePc);
  return 0;
}

long Instance::ResetTrace(Task& caller, unsigned long arg) {
  if (arg != 0 || caller.kcov != this) return -EINVAL;
  if (owner_ != &caller) return -EINVAL;
  if (mode_ == KcovMode::kDisabled || mode_ == KcovMode::kInit) return -EINVAL;
  auto* base = static_cast<uint64_t*>(area_.get());
  uint64_t* trace = base;
  if (mode_ == KcovMode::kUniquePc) {
    for (uint64_t i = 0; i < bitmap_words_; i++) StoreWord(&base[i], 0);
    trace = base + bitmap_words_;
  }
  StoreWord(&trace[0], 0);
  return 0;
}

long Instance::RemoteEnable(Task& caller, unsigned long arg, const ukcov_user_memory* memory) {
  // Read num_handles first, bound it, then copy the whole argument and make
  // sure it did not change in between (Linux's order, errno for errno).
  uint32_t num_handles;
  if (ReadUser(memory, &num_handles, arg + offsetof(ukcov_kcov_remote_arg, num_handles), sizeof num_handles) != 0)
    return -EFAULT;
  if (num_handles > UKCOV_KCOV_REMOTE_MAX_HANDLES) return -EINVAL;
  const size_t words = 3 + num_handles;
  std::unique_ptr<uint64_t[]> buffer(new (std::nothrow) uint64_t[words]);
  if (!buffer) return -ENOMEM;
  if (ReadUser(memory, buffer.get(), arg, words * sizeof(uint64_t)) != 0) return -EFAULT;
  const auto* remote_arg = reinterpret_cast<const ukcov_kcov_remote_arg*>(buffer.get());
  if (remote_arg->num_handles != num_handles) return -EINVAL;

  std::scoped_lock lock(caller.mu, mu);
  if (mode_ != KcovMode::kInit || !area_.valid()) return -EINVAL;
  if (owner_ != nullptr || caller.kcov != nullptr) return -EBUSY;
  Result<KcovMode> mode = ModeFor(remote_arg->trace_mode);
  if (!mode) return mode.negated();
  if (static_cast<unsigned long>(remote_arg->area_size) > LONG_MAX / sizeof(unsigned long)) return -EINVAL;

  mode_ = mode.value();
  owner_ = &caller;
  caller.kcov = this;
  caller.has_kcov.store(true, std::memory_order_release);
  int error = 0;
  {
    std::lock_guard remote_lock(engine_->remote_mu);
    remote_ = true;
    remote_size_ = remote_arg->area_size;
    try {
      for (uint32_t i = 0; i < num_handles && error == 0; i++) {
        uint64_t handle = remote_arg->handles[i];
        if (!CheckHandle(handle, false, true, false)) {
          error = EINVAL;
        } else if (!engine_->AddHandle(handle, this)) {
          error = EEXIST;
        }
      }
      uint64_t common = remote_arg->common_handle;
      if (error == 0 && common != 0) {
        if (!CheckHandle(common, true, false, false)) {
          error = EINVAL;
        } else if (!engine_->AddHandle(common, this)) {
          error = EEXIST;
        } else {
          caller.handle = common;
        }
      }
    } catch (const std::bad_alloc&) {
      error = ENOMEM;
    }
  }
  if (error != 0) {
    DisableLocked(caller);
    return -error;
  }
  Ref();  // dropped by DISABLE or the owner's exit
  return 0;
}

void Instance::DisableLocked(Task& owner) {
  owner.kcov = nullptr;
  owner.has_kcov.store(false, std::memory_order_release);
  std::lock_guard remote_lock(engine_->remote_mu);
  if (remote_) engine_->RemoveHandlesOf(this);
  owner_ = nullptr;
  mode_ = KcovMode::kInit;
  remote_ = false;
  remote_size_ = 0;
  bitmap_words_ = 0;
  sequence_++;  // a remote section started before now will not append
}

bool Instance::DisableForExit(Task& owner) {
  std::lock_guard lock(mu);
  if (owner_ != &owner) return false;
  DisableLocked(owner);
  return true;
}

int Instance::MmapCheck(uint64_t pgoff, uint64_t length) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  std::lock_guard lock(mu);
  if (!area_.valid() || pgoff != 0 || length == 0 || length > UINT64_MAX - page) return -EINVAL;
  uint64_t rounded = (length + page - 1) & ~(page - 1);
  if (rounded != size_ * sizeof(uint64_t)) return -EINVAL;
  return 0;
}

uint64_t* Instance::Area(uint64_t* words) {
  std::lock_guard lock(mu);
  if (words != nullptr) *words = size_;
  return static_cast<uint64_t*>(area_.get());
}

Instance::View Instance::RecordingView() const {
  if (remote_) return {};
  auto* base = static_cast<uint64_t*>(area_.get());
  switch (mode_) {
    case KcovMode::kTracePc:
      return {RecordMode::kTracePc, base, size_, nullptr, 0};
    case KcovMode::kTraceCmp:
      return {RecordMode::kTraceCmp, base, (size_ - 1) / UKCOV_KCOV_WORDS_PER_CMP, nullptr, 0};
    case KcovMode::kUniquePc:
      return {RecordMode::kUniquePc, base + bitmap_words_, size_ - bitmap_words_, base, bitmap_words_ * 64};
    default:
      return {};
  }
}

Instance::RemoteParams Instance::remote_params() const {
  return {mode_ == KcovMode::kTraceCmp ? RecordMode::kTraceCmp : RecordMode::kTracePc, sequence_, remote_size_};
}

void Instance::AppendRemote(uint32_t sequence, RecordMode mode, const uint64_t* src) {
  std::lock_guard lock(mu);
  // KCOV_DISABLE (or the owner's exit) since the section started: drop it.
  if (sequence != sequence_ || !remote_) return;
  const uint64_t entry = mode == RecordMode::kTraceCmp ? UKCOV_KCOV_WORDS_PER_CMP : 1;
  auto* dst = static_cast<uint64_t*>(area_.get());
  const uint64_t capacity = (size_ - 1) / entry;  // entries the area holds
  const uint64_t dst_len = LoadWord(&dst[0]);     // guest-writable: check it
  if (dst_len > capacity) return;
  const uint64_t moved = std::min(capacity - dst_len, src[0]);
  uint64_t* out = &dst[1 + dst_len * entry];
  for (uint64_t i = 0; i < moved * entry; i++) StoreWord(&out[i], src[1 + i]);
  // The count last, with release ordering: a reader that loads it with
  // acquire sees every entry it counts.
  __atomic_store_n(&dst[0], dst_len + moved, __ATOMIC_RELEASE);
}

}  // namespace ukcov::engine
