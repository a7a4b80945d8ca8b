// The cover test's "kernel": which of its blocks a run covers is known.
// fixture_straight runs whole; fixture_branchy takes its first arm only (a
// call each, so that no compiler merges the arms into one block), so
// fixture_taken runs and fixture_not_taken does not; fixture_never runs
// only when asked.
#include "fixture_kernel.h"

// No memory access and no signed arithmetic in the functions that run
// whole, so that a sanitizer build adds no check (and no block) to them;
// the asm statements, distinct per function, keep each a function of its
// own that no compiler merges or drops.
__attribute__((noinline)) void fixture_taken(void) { __asm__ volatile("nop"); }

__attribute__((noinline)) void fixture_not_taken(void) { __asm__ volatile("nop; nop"); }

__attribute__((noinline)) unsigned fixture_straight(unsigned x) {
  __asm__ volatile("nop; nop; nop");
  return x * 3u + 1u;
}

__attribute__((noinline)) int fixture_branchy(int x) {
  if (x > 0)
    fixture_taken();
  else
    fixture_not_taken();
  return x;
}

__attribute__((noinline)) int fixture_never(int x) {
  if (x == 42)
    fixture_taken();
  else
    fixture_not_taken();
  return x;
}
