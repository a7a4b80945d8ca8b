#define BENCH_NS bench_trace
#define HIT(i)
#include "blocks.inc"
