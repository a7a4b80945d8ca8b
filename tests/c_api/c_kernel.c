/* An instrumented kernel written in C: the handler of read(2)'s checks. */
#include "c_kernel.h"

#include <errno.h>
#include <stddef.h>

long c_kernel_read(int fd, void* buf, unsigned long count) {
  if (fd < 0) {
    __asm__ volatile("" ::: "memory");
    return -EBADF;
  }
  if (buf == NULL && count != 0) {
    __asm__ volatile("" ::: "memory");
    return -EFAULT;
  }
  return 0;
}
