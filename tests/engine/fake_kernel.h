// An instrumented stand-in for a host's kernel code (see fake_kernel.cc).
#pragma once

#include <cstdint>

namespace fake_kernel {

// read(2)'s argument checks: -EBADF for a negative fd, -EFAULT for a null
// buffer with a length, else 0.
long SysRead(int fd, void* buf, unsigned long count);
// Runs `n` loop iterations, each a few edges.
uint64_t Walk(uint64_t n);
// Two distinct code paths, to tell whose coverage landed where.
uint64_t PathA(uint64_t x);
uint64_t PathB(uint64_t x);
// Comparisons the compiler reports to the CMP callbacks.
bool Equal64(uint64_t a, uint64_t b);
bool IsMagic(uint64_t a);  // against the constant 0x1122334455667788
int Classify(uint32_t v);  // a switch

// [begin, end) of each function's code, for checking where a PC lies.
struct Range {
  uintptr_t begin, end;
  bool Contains(uintptr_t pc) const { return pc >= begin && pc < end; }
};
Range RangeOf(const void* function);

}  // namespace fake_kernel
