#include "sentry/kernel.h"

#include "sentry/fs/kcov/kcov_device.h"

namespace ukcov::sentry {

Kernel::Kernel(ukcov::Engine& engine) : engine_(engine), kcov_(std::make_unique<KcovDevice>(engine)) {}

Kernel::~Kernel() = default;

}  // namespace ukcov::sentry
