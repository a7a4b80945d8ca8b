/* kcov of the sentry's tmpfs: a thread's area shows the filesystem code that
 * served its calls, and the PCs differ by path taken. A successful mkdir and
 * an EEXIST mkdir record different sets of PCs; the same call on the same
 * state (a directory made, removed and made again; an EEXIST repeated)
 * records the same set. Usage: tmpfs_kcov DIR (a tmpfs mount).
 * 77 when the kernel has no kcov (natively). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define KCOV_ENABLE _IO('c', 100)
#define KCOV_DISABLE _IO('c', 101)
#define WORDS (256 << 10)

static uint64_t* area;
static int failed;

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

/* The sorted, de-duplicated PCs of one call. */
struct pcs {
  uint64_t n, v[8192];
};
static void collect(struct pcs* out) {
  uint64_t n = __atomic_load_n(&area[0], __ATOMIC_RELAXED);
  if (n > 8192) n = 8192;
  memcpy(out->v, &area[1], n * 8);
  qsort(out->v, n, 8, cmp_u64);
  uint64_t k = 0;
  for (uint64_t i = 0; i < n; i++)
    if (k == 0 || out->v[k - 1] != out->v[i]) out->v[k++] = out->v[i];
  out->n = k;
}
static int same(const struct pcs* a, const struct pcs* b) {
  return a->n == b->n && memcmp(a->v, b->v, a->n * 8) == 0;
}
#define CHECK(c) \
  do { if (!(c)) { failed++; printf("FAIL line %d: %s\n", __LINE__, #c); } } while (0)

static struct pcs ok1, ok2, exists1, exists2, missing;

int main(int argc, char** argv) {
  int fd = open("/sys/kernel/debug/kcov", O_RDWR);
  if (fd < 0 && errno == ENOENT) return fprintf(stderr, "tmpfs_kcov: no kcov here\n"), 77;
  if (argc != 2 || chdir(argv[1]) != 0) return 2;
  /* A tmpfs symlink to the device leads to it, as a path walk does. */
  CHECK(symlink("/sys/kernel/debug/kcov", "kcov_link") == 0);
  int via_link = open("kcov_link", O_RDWR);
  CHECK(via_link >= 0 && ioctl(via_link, KCOV_INIT_TRACE, 64) == 0);
  close(via_link);
  unlink("kcov_link");
  CHECK(ioctl(fd, KCOV_INIT_TRACE, WORDS) == 0);
  area = mmap(NULL, WORDS * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(area != MAP_FAILED);
  CHECK(ioctl(fd, KCOV_ENABLE, 0) == 0);
#define TRACE(into, call)                                   \
  do {                                                      \
    __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);        \
    (void)(call);                                           \
    collect(into);                                          \
  } while (0)
  mkdir("warm", 0755);  /* the directory's tables have room from here on */
  TRACE(&ok1, mkdir("a", 0755));
  rmdir("a");
  TRACE(&ok2, mkdir("a", 0755));
  TRACE(&exists1, mkdir("a", 0755));
  TRACE(&exists2, mkdir("a", 0755));
  TRACE(&missing, mkdir("none/c", 0755));
  CHECK(ioctl(fd, KCOV_DISABLE, 0) == 0);
  printf("mkdir: %llu PCs new, %llu PCs EEXIST, %llu PCs ENOENT\n", (unsigned long long)ok1.n,
         (unsigned long long)exists1.n, (unsigned long long)missing.n);
  CHECK(ok1.n > 0 && exists1.n > 0 && missing.n > 0);
  CHECK(same(&ok1, &ok2));          /* the same call on the same state */
  CHECK(same(&exists1, &exists2));
  CHECK(!same(&ok1, &exists1));     /* different paths, different PCs */
  CHECK(!same(&exists1, &missing));
  printf("tmpfs_kcov: %s\n", failed ? "FAILED" : "passed");
  return failed ? 1 : 0;
}
