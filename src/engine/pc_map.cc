#include "engine/pc_map.h"

#include <cerrno>
#include <link.h>

#include "ukcov/kcov.h"

namespace ukcov::engine {
namespace {

struct Search {
  uintptr_t address;
  bool found = false;
  PcMap map;
};

int VisitModule(struct dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  bool contains = false;
  uintptr_t exec_lo = UINTPTR_MAX, exec_hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    uintptr_t hi = lo + ph.p_memsz;
    if (search->address >= lo && search->address < hi) contains = true;
    if (ph.p_flags & PF_X) {
      exec_lo = lo < exec_lo ? lo : exec_lo;
      exec_hi = hi > exec_hi ? hi : exec_hi;
    }
  }
  if (!contains || exec_hi <= exec_lo) return 0;
  search->found = true;
  search->map.lo = exec_lo;
  search->map.len = exec_hi - exec_lo;
  search->map.load_base = info->dlpi_addr;
  search->map.bias = UKCOV_CANONICAL_PC_BASE - info->dlpi_addr;
  return 1;
}

int VisitFirst(struct dl_phdr_info* info, size_t, void* data) {
  // The main program is reported first; take its first loaded segment.
  for (int i = 0; i < info->dlpi_phnum; i++) {
    if (info->dlpi_phdr[i].p_type == PT_LOAD) {
      *static_cast<uintptr_t*>(data) = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
      return 1;
    }
  }
  return 1;
}

}  // namespace

Result<PcMap> CanonicalPcMapFor(const void* address) {
  Search search{reinterpret_cast<uintptr_t>(address)};
  dl_iterate_phdr(VisitModule, &search);
  if (!search.found) return Errno{EINVAL};
  return search.map;
}

const void* MainExecutableAddress() {
  uintptr_t address = 0;
  dl_iterate_phdr(VisitFirst, &address);
  return reinterpret_cast<const void*>(address);
}

}  // namespace ukcov::engine
