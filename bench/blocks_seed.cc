// Go's cover tool in atomic mode, as the seed builds its Sentry: every block
// begins with an atomic increment of its counter.
#include "blocks.h"
uint32_t* g_seed_counters = nullptr;
#define BENCH_NS bench_seed
#define HIT(i) __atomic_fetch_add(&g_seed_counters[i], 1u, __ATOMIC_RELAXED)
#include "blocks.inc"
