/* Documentation/dev-tools/kcov.rst's first example, as a guest: open the
 * kcov file, INIT, mmap, ENABLE, read(-1, NULL, 0), print the PCs, DISABLE.
 * Exit status 0 on success; 77 (with a note on stderr) where the kernel has
 * no kcov (ENOENT on open), as a native run on most hosts finds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define KCOV_ENABLE _IO('c', 100)
#define KCOV_DISABLE _IO('c', 101)
#define COVER_SIZE (64 << 10)
#define KCOV_TRACE_PC 0

int main(void) {
  int fd = open("/sys/kernel/debug/kcov", O_RDWR);
  if (fd == -1) {
    if (errno == ENOENT) {
      fprintf(stderr, "kcov_example: no kcov here (ENOENT)\n");
      return 77;
    }
    perror("open"), exit(1);
  }
  if (ioctl(fd, KCOV_INIT_TRACE, COVER_SIZE)) perror("ioctl"), exit(1);
  unsigned long* cover =
      (unsigned long*)mmap(NULL, COVER_SIZE * sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if ((void*)cover == MAP_FAILED) perror("mmap"), exit(1);
  if (ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC)) perror("ioctl"), exit(1);
  __atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
  read(-1, NULL, 0);
  unsigned long n = __atomic_load_n(&cover[0], __ATOMIC_RELAXED);
  for (unsigned long i = 0; i < n; i++) printf("0x%lx\n", cover[i + 1]);
  if (ioctl(fd, KCOV_DISABLE, 0)) perror("ioctl"), exit(1);
  if (munmap(cover, COVER_SIZE * sizeof(unsigned long))) perror("munmap"), exit(1);
  if (close(fd)) perror("close"), exit(1);
  return n > 0 ? 0 : 2;
}
