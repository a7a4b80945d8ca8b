// The same 256-block handler compiled for the counters backend
// (-fsanitize-coverage=inline-8bit-counters,pc-table): each block increments
// its byte counter in place, with no call. (clang only.)
#include "blocks.h"
#define BENCH_NS bench_counters
#define HIT(i) ((void)0)
#include "blocks.inc"
