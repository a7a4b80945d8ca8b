// The sentry's syscall handlers, one file per family. Instrumented: their
// coverage is what a guest's kcov shows.
#pragma once

#include "sentry/kernel.h"

namespace ukcov::sentry::syscalls {

Answer Open(Kernel& kernel, Syscall& sc);     // open, openat, openat2, creat   (file.cc)
Answer ReadWrite(Kernel& kernel, Syscall& sc);  // read, write, p*, *v, *v2      (read_write.cc)
Answer Lseek(Kernel& kernel, Syscall& sc);    //                                (read_write.cc)
Answer Fsync(Kernel& kernel, Syscall& sc);    // fsync, fdatasync               (read_write.cc)
Answer Ioctl(Kernel& kernel, Syscall& sc);    //                                (ioctl.cc)
Answer Mmap(Kernel& kernel, Syscall& sc);     //                                (mmap.cc)
Answer Stat(Kernel& kernel, Syscall& sc);     // fstat, newfstatat, statx       (stat.cc)
Answer Clone(Kernel& kernel, Syscall& sc);    // clone, clone3, fork, vfork     (process.cc)
Answer Execve(Kernel& kernel, Syscall& sc);   // execve, execveat               (process.cc)

}  // namespace ukcov::sentry::syscalls
