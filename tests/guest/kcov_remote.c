/* Remote coverage from a guest, as kcov.rst's remote example and the
 * syzkaller executor use it: REMOTE_ENABLE with a common handle, then work
 * the kernel does in the background on behalf of this task lands in the
 * area, and the task's own syscalls do not.
 *
 * Which background work carries the common handle is the kernel's business:
 * in Linux a vhost worker created by a task (VHOST_SET_OWNER captures the
 * task's handle; the worker then runs its work items under it), in the
 * sentry the processing of exits of tasks that inherited the handle. The
 * program causes both: it owns a vhost-vsock device where /dev/vhost-vsock
 * exists, and starts and joins threads. One line per check (kcov_guest.h). */
#include "kcov_guest.h"

#include <linux/vhost.h>
#include <pthread.h>

#define COVER_SIZE (64 << 10)

static void* short_lived(void* unused) {
  (void)unused;
  (void)read(-1, NULL, 0);
  return NULL;
}

int main(void) {
  kcov_section = "remote";
  int fd = kcov_open();
  EXPECT_CALL("INIT_TRACE", ioctl(fd, KCOV_INIT_TRACE, COVER_SIZE), "0");
  uint64_t* cover = mmap(NULL, COVER_SIZE * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  EXPECT_YES("mmap", cover != MAP_FAILED);
  if (cover == MAP_FAILED) return kcov_summary("kcov_remote");
  struct kcov_remote_arg* arg = calloc(1, sizeof *arg + 8);
  arg->trace_mode = KCOV_TRACE_PC;
  arg->area_size = COVER_SIZE;
  arg->num_handles = 1;
  arg->common_handle = KCOV_SUBSYSTEM_COMMON | 0x42;
  arg->handles[0] = KCOV_SUBSYSTEM_USB | 1;
  EXPECT_CALL("REMOTE_ENABLE with a common and a USB handle", ioctl(fd, KCOV_REMOTE_ENABLE, arg), "0");
  kcov_reset(cover);
  (void)read(-1, NULL, 0);
  EXPECT_YES("this thread's own syscalls are not traced", kcov_count(cover) == 0);

  /* Background work on behalf of this task. */
  int vhost = open("/dev/vhost-vsock", O_RDWR);
  if (vhost >= 0) ioctl(vhost, VHOST_SET_OWNER);
  for (int i = 0; i < 4; i++) {
    pthread_t t;
    pthread_create(&t, NULL, short_lived, NULL);
    pthread_join(t, NULL);
  }
  uint64_t n = 0;
  for (int i = 0; i < 2000 && n == 0; i++) { /* processed promptly, not synchronously */
    n = kcov_count(cover);
    if (n == 0) usleep(1000);
  }
  EXPECT_YES("background work on behalf of this task is in the area", n > 0);
  struct kcov_pcs s = kcov_pcs_of(cover, COVER_SIZE);
  EXPECT_YES("every PC is in the kernel text range", kcov_pcs_all_in_text(&s));
  kcov_pcs_free(&s);
  if (vhost >= 0) close(vhost);
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  /* The handles are free again: another REMOTE_ENABLE takes them. */
  EXPECT_CALL("REMOTE_ENABLE again with the same handles", ioctl(fd, KCOV_REMOTE_ENABLE, arg), "0");
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  free(arg);
  return kcov_summary("kcov_remote");
}
