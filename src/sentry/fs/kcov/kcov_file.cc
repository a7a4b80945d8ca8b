#include "sentry/fs/kcov/kcov_file.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>

#include "sentry/fs/kcov/kcov_device.h"

namespace ukcov::sentry {

Answer KcovFile::ReadWrite(Kernel&, Syscall&, const IoArgs& io) {
  if (io.positioned) return Answer::Error(ESPIPE);  // no FMODE_PREAD / FMODE_PWRITE
  if (io.reading ? access_mode == O_WRONLY : access_mode == O_RDONLY) return Answer::Error(EBADF);
  return Answer::Error(EINVAL);
}

Answer KcovFile::Ioctl(Kernel&, Syscall& sc, unsigned cmd, uint64_t arg) {
  ukcov_user_memory memory = sc.memory.ForEngine();
  long r = instance.Ioctl(*sc.task.task, cmd, arg, &memory);
  // The return path runs after the engine, traced as Linux traces ioctl's
  // (a client sees a non-zero count right after KCOV_RESET_TRACE).
  if (r < 0) return Answer::Error(static_cast<int>(-r));
  return Answer::Return(r);
}

Answer KcovFile::Mmap(Kernel& kernel, Syscall& sc, const MmapArgs& args) {
  if (args.length == 0) return Answer::Error(EINVAL);
  if (access_mode == O_WRONLY) return Answer::Error(EACCES);
  if ((args.flags & MAP_TYPE) != MAP_PRIVATE && (args.prot & PROT_WRITE) && access_mode == O_RDONLY)
    return Answer::Error(EACCES);
  if (int r = instance.MmapCheck(args.offset / 4096, args.length); r != 0) return Answer::Return(r);
  if (handle == 0) return Answer::Continue();  // the guest's fd is a struct file of the memfd itself
  // Served: the guest's fd is a FUSE file, whose mapping would be FUSE's
  // page cache. The thread maps a struct file of the memfd instead.
  Result<UniqueFd> file = kernel.kcov().MapServed(*this);
  if (!file) return Answer::Error(file.error());
  kernel.exec().Map(sc, MapPlan{std::move(file.value()), args.address, args.length, args.prot, args.flags, args.offset});
  return Answer::Deferred();
}

Answer KcovFile::Fcntl(Kernel&, Syscall&, unsigned cmd, uint64_t) {
  if (cmd == F_ADD_SEALS || cmd == F_GET_SEALS) return Answer::Error(EINVAL);
  return Answer::Continue();
}

}  // namespace ukcov::sentry
