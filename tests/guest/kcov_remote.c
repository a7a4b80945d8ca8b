/* Remote coverage from a guest, as kcov.rst's remote example and the
 * syzkaller executor use it: REMOTE_ENABLE with a common handle, then work
 * the kernel does in the background on behalf of tasks that inherited the
 * handle lands in the area. In the sentry that background work is the
 * processing of a task's exit on the reaper thread. 77: no kcov here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define KCOV_DISABLE _IO('c', 101)
#define KCOV_REMOTE_ENABLE _IOW('c', 102, struct kcov_remote_arg)
#define COVER_SIZE (64 << 10)
#define KCOV_TRACE_PC 0
#define KCOV_SUBSYSTEM_COMMON (0x00ull << 56)
#define KCOV_SUBSYSTEM_USB (0x01ull << 56)

struct kcov_remote_arg {
  uint32_t trace_mode, area_size, num_handles, pad;
  uint64_t common_handle;
  uint64_t handles[];
};

static void* short_lived(void* unused) {
  (void)unused;
  (void)read(-1, NULL, 0);  /* a task the sentry knows */
  return NULL;
}

int main(void) {
  int fd = open("/sys/kernel/debug/kcov", O_RDWR);
  if (fd == -1) {
    if (errno == ENOENT) return fprintf(stderr, "kcov_remote: no kcov here (ENOENT)\n"), 77;
    return perror("open"), 1;
  }
  if (ioctl(fd, KCOV_INIT_TRACE, COVER_SIZE)) return perror("init"), 1;
  unsigned long* cover = mmap(NULL, COVER_SIZE * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (cover == MAP_FAILED) return perror("mmap"), 1;
  struct kcov_remote_arg* arg = calloc(1, sizeof *arg + 8);
  arg->trace_mode = KCOV_TRACE_PC;
  arg->area_size = COVER_SIZE;
  arg->num_handles = 1;
  arg->common_handle = KCOV_SUBSYSTEM_COMMON | 0x42;
  arg->handles[0] = KCOV_SUBSYSTEM_USB | 1;
  if (ioctl(fd, KCOV_REMOTE_ENABLE, arg)) return perror("remote enable"), 1;
  __atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
  /* This thread's own syscalls are not traced any more. */
  (void)read(-1, NULL, 0);
  if (__atomic_load_n(&cover[0], __ATOMIC_ACQUIRE) != 0) return fprintf(stderr, "own syscall traced\n"), 1;
  /* Threads that inherit the common handle, and exit. */
  for (int i = 0; i < 4; i++) {
    pthread_t t;
    pthread_create(&t, NULL, short_lived, NULL);
    pthread_join(t, NULL);
  }
  unsigned long n = 0;
  for (int i = 0; i < 2000 && n == 0; i++) {  /* processed promptly, not synchronously */
    n = __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE);
    if (n == 0) usleep(1000);
  }
  for (unsigned long i = 0; i < n; i++) printf("0x%lx\n", cover[i + 1]);
  if (ioctl(fd, KCOV_DISABLE, 0)) return perror("disable"), 1;
  return n > 0 ? 0 : fprintf(stderr, "no remote coverage\n"), n > 0 ? 0 : 1;
}
