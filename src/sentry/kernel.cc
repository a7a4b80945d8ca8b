#include "sentry/kernel.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include "sentry/fs/debugfs/debugfs.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry {

Kernel::Kernel(ukcov::Engine& engine, Interception interception)
    : engine_(engine),
      kcov_(std::make_unique<KcovDevice>(engine)),
      vfs_(std::make_unique<Vfs>()),
      interception_(interception) {
  UniqueFd probe(memfd_create("ukcov-probe", MFD_CLOEXEC));
  struct stat st;
  if (probe && fstat(probe.get(), &st) == 0) memfd_dev_ = st.st_dev;
  serialize_ = engine.features() & UKCOV_FEATURE_COUNTERS;
  // debugfs is mounted wherever the host has /sys/kernel/debug or not: the
  // kcov device is always there for the guest.
  std::string error;
  (void)vfs_->AddMount(
      debugfs::kMountPoint,
      [this](dev_t dev) {
        auto fs = std::make_unique<debugfs::Filesystem>(dev, *kcov_);
        debugfs_ = fs.get();
        return fs;
      },
      true, &error);
}

Kernel::~Kernel() = default;

std::shared_ptr<const Credentials> Kernel::CredentialsOf(TaskState& task) {
  std::lock_guard lock(task.creds_mu);
  const uint64_t generation = task.process->creds_generation.load(std::memory_order_acquire);
  if (!task.creds || task.creds_generation != generation) {
    task.creds_generation = generation;
    Result<Credentials> c = Credentials::Read(task.tid);
    task.creds = std::make_shared<const Credentials>(c ? std::move(c.value()) : Credentials{});
  }
  return task.creds;
}

}  // namespace ukcov::sentry
