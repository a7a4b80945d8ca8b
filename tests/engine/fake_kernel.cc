// Compiled with coverage instrumentation (ukcov_instrument in CMakeLists).
#include "fake_kernel.h"

#include <cerrno>

namespace fake_kernel {

// The empty asm statements keep each branch a block of its own, as real
// handlers' side effects would.
__attribute__((noinline)) long SysRead(int fd, void* buf, unsigned long count) {
  if (fd < 0) {
    asm volatile("" ::: "memory");
    return -EBADF;
  }
  if (buf == nullptr && count != 0) {
    asm volatile("" ::: "memory");
    return -EFAULT;
  }
  asm volatile("" ::: "memory");
  return 0;
}

__attribute__((noinline)) uint64_t Walk(uint64_t n) {
  uint64_t acc = 0;
  for (uint64_t i = 0; i < n; i++) {
    if (i & 1)
      acc += i * 3;
    else
      acc ^= i;
    asm volatile("" : "+r"(acc));
  }
  return acc;
}

__attribute__((noinline)) uint64_t PathA(uint64_t x) {
  if (x % 3 == 0) return x / 3;
  if (x % 5 == 0) return x * 7;
  return x + 11;
}

__attribute__((noinline)) uint64_t PathB(uint64_t x) {
  uint64_t r = 1;
  for (int i = 0; i < 3; i++) {
    if (x & (1u << i)) r *= 5;
    asm volatile("" : "+r"(r));
  }
  return r;
}

__attribute__((noinline)) bool Equal64(uint64_t a, uint64_t b) {
  asm volatile("" : "+r"(a), "+r"(b));
  return a == b;
}

__attribute__((noinline)) bool IsMagic(uint64_t a) {
  asm volatile("" : "+r"(a));
  return a == 0x1122334455667788ull;
}

__attribute__((noinline)) int Classify(uint32_t v) {
  asm volatile("" : "+r"(v));
  switch (v) {
    case 3: return 10;
    case 17: asm volatile(""); return 20;
    case 1000: asm volatile(""); return 30;
    case 123456: asm volatile(""); return 40;
    default: return 0;
  }
}

}  // namespace fake_kernel
