// Instruction counts without timing noise: `bench_icount MODE CALLS` makes
// CALLS syscalls' worth of kernel work in MODE (harness.h) and exits.
// bench/run.sh runs it under callgrind at two CALLS values and divides the
// difference, so set-up and exit cancel out. MODE "seedscan:N" adds the
// seed's scan of N counters to each call.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "harness.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODE CALLS\n", argv[0]);
    return 2;
  }
  std::string mode_name = argv[1];
  long calls = std::atol(argv[2]);
  uint64_t sink = 0;
  if (mode_name.rfind("seedscan:", 0) == 0) {
    bench::Served served(bench::Mode::kSeed, std::stoul(mode_name.substr(9)));
    for (long i = 0; i < calls; i++) {
      sink += served.Call();
      served.area()[0] = 0;
      sink += served.seed().Consume(served.area(), bench::kAreaWords);
    }
  } else {
    bench::Mode mode;
    if (!bench::Parse(mode_name, &mode)) {
      std::fprintf(stderr, "unknown mode %s\n", argv[1]);
      return 2;
    }
    bench::Served served(mode);
    for (long i = 0; i < calls; i++) sink += served.Call();
  }
  std::printf("%llu\n", static_cast<unsigned long long>(sink & 1));
  return 0;
}
