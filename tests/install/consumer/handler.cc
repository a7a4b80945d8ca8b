// Instrumented by the consumer's own ukcov_instrument() call.
int Handler(int x) {
  if (x < 0) {
    asm volatile("" ::: "memory");
    return -9;
  }
  return x * 2;
}
