// The cover test's "kernel": which of its blocks a run covers is known.
// fixture_straight runs whole; fixture_branchy takes its first arm only (a
// call each, so that no compiler merges the arms into one block), so
// fixture_taken runs and fixture_not_taken does not; fixture_never runs
// only when asked.
#include "fixture_kernel.h"

volatile int fixture_sink;

__attribute__((noinline)) void fixture_taken(void) { fixture_sink = 1; }

__attribute__((noinline)) void fixture_not_taken(void) { fixture_sink = 2; }

__attribute__((noinline)) int fixture_straight(int x) {
  fixture_sink = x;
  return x * 3 + 1;
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
