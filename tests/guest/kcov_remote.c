/* Remote coverage from a guest, as kcov.rst's remote example and the
 * syzkaller executor use it: REMOTE_ENABLE with a common handle, then work
 * the kernel does in the background on behalf of this task lands in the
 * area, and the task's own syscalls do not.
 *
 * Which background work carries the common handle is the kernel's business:
 * in Linux a vhost worker created by a task (VHOST_SET_OWNER captures the
 * task's handle; the worker then runs its work items under it), in the
 * sentry the processing of exits of tasks that inherited the handle. The
 * program causes both from threads that inherited the handle: one takes
 * ownership of a vhost-vsock device where /dev/vhost-vsock exists, others
 * start and exit. In PC and in CMP mode. One line per check (kcov_guest.h). */
#include "kcov_guest.h"

#include <linux/vhost.h>
#include <pthread.h>

#define COVER_SIZE (64 << 10)

static void* short_lived(void* unused) {
  (void)unused;
  (void)read(-1, NULL, 0);
  return NULL;
}

/* A thread that inherited the common handle takes ownership of a vhost
 * device: its worker runs under that handle from now on. */
static void* own_vhost(void* fd) {
  ioctl(*(int*)fd, VHOST_SET_OWNER);
  return NULL;
}

/* Starts the vhost-vsock device: an empty memory table, two rings of 8
 * descriptors, running. Starting queues the device's send work on its
 * worker, which runs it under the owner's handle. */
static void start_vsock(int vhost) {
  static char rings[2][1024] __attribute__((aligned(4096)));
  struct vhost_memory mem = {0};
  ioctl(vhost, VHOST_SET_MEM_TABLE, &mem);
  for (unsigned i = 0; i < 2; i++) {
    struct vhost_vring_state num = {i, 8};
    ioctl(vhost, VHOST_SET_VRING_NUM, &num);
    struct vhost_vring_addr addr = {.index = i,
                                    .desc_user_addr = (uintptr_t)rings[i],
                                    .used_user_addr = (uintptr_t)rings[i] + 512,
                                    .avail_user_addr = (uintptr_t)rings[i] + 256};
    ioctl(vhost, VHOST_SET_VRING_ADDR, &addr);
  }
  int running = 1;
  ioctl(vhost, VHOST_VSOCK_SET_RUNNING, &running);
}

/* Background work on behalf of this task's common handle, by threads that
 * inherited it; returns the vhost fd to close once collected (-1: none). */
static int cause_background_work(void) {
  int vhost = open("/dev/vhost-vsock", O_RDWR);
  pthread_t t;
  if (vhost >= 0) {
    pthread_create(&t, NULL, own_vhost, &vhost);
    pthread_join(t, NULL);
    start_vsock(vhost);
  }
  for (int i = 0; i < 4; i++) {
    pthread_create(&t, NULL, short_lived, NULL);
    pthread_join(t, NULL);
  }
  return vhost;
}

/* The count, once background work has been collected (promptly, not
 * synchronously). */
static uint64_t wait_for_records(const uint64_t* cover) {
  uint64_t n = 0;
  for (int i = 0; i < 2000 && n == 0; i++) {
    n = kcov_count(cover);
    if (n == 0) usleep(1000);
  }
  return n;
}

static struct kcov_remote_arg* remote_arg(uint32_t mode) {
  struct kcov_remote_arg* arg = calloc(1, sizeof *arg + 8);
  arg->trace_mode = mode;
  arg->area_size = COVER_SIZE;
  arg->num_handles = 1;
  arg->common_handle = KCOV_SUBSYSTEM_COMMON | 0x42;
  arg->handles[0] = KCOV_SUBSYSTEM_USB | 1;
  return arg;
}

static void remote_pc(int fd, uint64_t* cover) {
  kcov_section = "remote";
  struct kcov_remote_arg* arg = remote_arg(KCOV_TRACE_PC);
  EXPECT_CALL("REMOTE_ENABLE with a common and a USB handle", ioctl(fd, KCOV_REMOTE_ENABLE, arg), "0");
  kcov_reset(cover);
  (void)read(-1, NULL, 0);
  EXPECT_YES("this thread's own syscalls are not traced", kcov_count(cover) == 0);
  int vhost = cause_background_work();
  EXPECT_YES("background work on behalf of its threads is in the area", wait_for_records(cover) > 0);
  struct kcov_pcs s = kcov_pcs_of(cover, COVER_SIZE);
  EXPECT_YES("every PC is in the kernel text range", kcov_pcs_all_in_text(&s));
  kcov_pcs_free(&s);
  if (vhost >= 0) close(vhost);
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  /* The handles are free again: another REMOTE_ENABLE takes them. */
  EXPECT_CALL("REMOTE_ENABLE again with the same handles", ioctl(fd, KCOV_REMOTE_ENABLE, arg), "0");
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  free(arg);
}

/* Remote comparison coverage: the same background work, as CMP records. */
static void remote_cmp(int fd, uint64_t* cover) {
  struct kcov_remote_arg* arg = remote_arg(KCOV_TRACE_CMP);
  int r = ioctl(fd, KCOV_REMOTE_ENABLE, arg);
  if (r == -1 && errno == ENOTSUPP) {
    kcov_absent("remote_cmp");
    free(arg);
    return;
  }
  kcov_section = "remote_cmp";
  EXPECT_CALL("REMOTE_ENABLE in CMP mode", r, "0");
  kcov_reset(cover);
  int vhost = cause_background_work();
  uint64_t n = wait_for_records(cover);
  EXPECT_YES("background work's comparisons are in the area", n > 0);
  int types_ok, pcs_ok;
  kcov_check_cmp_records(cover, COVER_SIZE, n, &types_ok, &pcs_ok);
  EXPECT_YES("every record's type is at most 7", types_ok);
  EXPECT_YES("every record's PC is in the kernel text range", pcs_ok);
  if (vhost >= 0) close(vhost);
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  free(arg);
}

int main(void) {
  kcov_section = "setup";
  int fd = kcov_open();
  EXPECT_CALL("INIT_TRACE", ioctl(fd, KCOV_INIT_TRACE, COVER_SIZE), "0");
  uint64_t* cover = mmap(NULL, COVER_SIZE * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  EXPECT_YES("mmap", cover != MAP_FAILED);
  if (cover == MAP_FAILED) return kcov_summary("kcov_remote");
  remote_pc(fd, cover);
  remote_cmp(fd, cover);
  return kcov_summary("kcov_remote");
}
