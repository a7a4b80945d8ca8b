// ukcov-example-host: the kcov.rst example, run by a guest thread of the
// mini kernel, then its coverage printed as function and file:line.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernel.h"
#include "tools/symbolizer.h"

#define COVER_SIZE (64 << 10)

int main() {
  auto engine = ukcov::Engine::Create();
  if (!engine) return std::perror("ukcov engine"), 1;
  mini::Kernel kernel(*engine);
  auto task = ukcov::Task::Create(*engine);
  if (!task) return std::perror("ukcov task"), 1;
  mini::Guest guest{kernel, *task};

  // ---- the guest: Documentation/dev-tools/kcov.rst, line for line ----
  int fd = static_cast<int>(guest.open("/sys/kernel/debug/kcov", O_RDWR));
  if (fd == -1) return std::perror("open"), 1;
  if (guest.ioctl(fd, UKCOV_KCOV_INIT_TRACE, COVER_SIZE)) return std::perror("ioctl"), 1;
  auto* cover = static_cast<unsigned long*>(
      guest.mmap(nullptr, COVER_SIZE * sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (cover == MAP_FAILED) return std::perror("mmap"), 1;
  if (guest.ioctl(fd, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC)) return std::perror("ioctl"), 1;
  __atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
  guest.read(-1, nullptr, 0);
  unsigned long n = __atomic_load_n(&cover[0], __ATOMIC_RELAXED);
  std::vector<unsigned long> pcs(cover + 1, cover + 1 + n);
  if (guest.ioctl(fd, UKCOV_KCOV_DISABLE, 0)) return std::perror("ioctl"), 1;
  if (munmap(cover, COVER_SIZE * sizeof(unsigned long))) return std::perror("munmap"), 1;
  if (guest.close(fd)) return std::perror("close"), 1;

  // ---- the report ----
  std::printf("read(-1, NULL, 0) in the mini kernel ran %lu blocks:\n", n);
  auto symbolizer = ukcov::tools::Symbolizer::Open("/proc/self/exe");
  if (!symbolizer) return std::fprintf(stderr, "symbolizer: error %d\n", symbolizer.error()), 1;
  symbolizer->set_strip_prefix(UKCOV_SOURCE_DIR "/");
  for (unsigned long pc : pcs) std::printf("%s\n", ukcov::tools::Format(symbolizer->Symbolize(pc)).c_str());
  return n > 0 ? 0 : 1;
}
