// tmpfs halves of the fd-taking handlers. Instrumented.
#pragma once

#include "sentry/fd_table.h"
#include "sentry/kernel.h"

namespace ukcov::sentry::syscalls {

Answer TmpfsReadWrite(Kernel& kernel, Syscall& sc, FileRef& file, bool reading, bool vectored, bool positioned,
                      int64_t position);
Answer TmpfsLseek(Kernel& kernel, Syscall& sc, FileRef& file);
Answer TmpfsFsync(Kernel& kernel, FileRef& file);

}  // namespace ukcov::sentry::syscalls
