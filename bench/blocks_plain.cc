#define BENCH_NS bench_plain
#define HIT(i)
#include "blocks.inc"
