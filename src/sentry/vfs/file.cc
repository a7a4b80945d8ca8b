#include "sentry/vfs/file.h"

#include <cerrno>

namespace ukcov::sentry {

Answer File::ReadWrite(Kernel&, Syscall&, const IoArgs&) { return Answer::Error(EINVAL); }
Answer File::Seek(Kernel&, Syscall&, int64_t, unsigned) { return Answer::Error(ESPIPE); }
Answer File::Fsync(Kernel&, Syscall&) { return Answer::Error(EINVAL); }
Answer File::Ioctl(Kernel&, Syscall&, unsigned, uint64_t) { return Answer::Error(ENOTTY); }
Answer File::Mmap(Kernel&, Syscall&, const MmapArgs&) { return Answer::Error(ENODEV); }
Answer File::Fallocate(Kernel&, Syscall&, int, int64_t, int64_t) { return Answer::Error(EOPNOTSUPP); }
Answer File::Getdents(Kernel&, Syscall&, uint64_t, uint64_t, bool) { return Answer::Error(ENOTDIR); }
Answer File::CopyRange(Kernel&, Syscall&, bool) { return Answer::Error(EINVAL); }
Answer File::Fcntl(Kernel&, Syscall&, unsigned, uint64_t) { return Answer::Continue(); }
Answer File::Flock(Kernel&, Syscall&) { return Answer::Continue(); }

}  // namespace ukcov::sentry
