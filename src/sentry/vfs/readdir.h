// Reading a directory of the sentry's tree: fs/libfs.c's offset
// directories (offset_readdir, offset_dir_llseek), which tmpfs and debugfs
// both use. The position is the guest's open file description's own offset.
// Instrumented.
#pragma once

#include <cstdint>

#include "sentry/kernel.h"
#include "sentry/vfs/inode.h"

namespace ukcov::sentry {

// getdents64(2) (getdents(2) if `legacy`) of `dir` through the guest's
// description `description`, into the guest's buffer.
Answer ReadDirectory(Syscall& sc, Inode& dir, int description, uint64_t buffer, uint64_t count, bool legacy);
// lseek(2) of a directory description: SEEK_SET and SEEK_CUR only.
Answer SeekDirectory(int description, int64_t offset, unsigned whence);

}  // namespace ukcov::sentry
