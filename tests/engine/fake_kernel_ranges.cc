// Not instrumented (outside the ALLOW list): test-side helpers.
#include <dlfcn.h>
#include <link.h>

#include "fake_kernel.h"

namespace fake_kernel {

Range RangeOf(const void* function) {
  // The symbol's size from the dynamic symbol table (the test exports its
  // symbols for this).
  Dl_info info;
  void* sym_raw = nullptr;
  if (dladdr1(function, &info, &sym_raw, RTLD_DL_SYMENT) == 0 || sym_raw == nullptr) return {0, 0};
  const auto* sym = static_cast<const ElfW(Sym)*>(sym_raw);
  auto begin = reinterpret_cast<uintptr_t>(info.dli_saddr);
  return {begin, begin + sym->st_size};
}

}  // namespace fake_kernel
