// The cover test's host: serves one "syscall" of the fixture kernel with
// the whole run's coverage and kcov's TRACE_PC both on, and writes what
// each saw. Usage: cover_fixture RUN_FILE AREA_FILE [never]
//   RUN_FILE   the run's coverage, as `ukcov run --coverage` writes it
//   AREA_FILE  the kcov area, raw (count word, then PCs)
// With "never", the syscall also runs fixture_never.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "fixture_kernel.h"
#include "ukcov/ukcov.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s RUN_FILE AREA_FILE [never]\n", argv[0]);
    return 2;
  }
  const bool never = argc > 3 && std::strcmp(argv[3], "never") == 0;
  ukcov_engine_options options;
  ukcov_engine_options_init(&options);
  options.run_coverage = 1;
  auto engine = ukcov::Engine::Create(&options);
  if (!engine) return std::fprintf(stderr, "engine: %d\n", engine.error()), 1;
  auto task = ukcov::Task::Create(*engine);
  auto inst = ukcov::Instance::Open(*engine);
  if (!task || !inst) return 1;
  {
    ukcov::Serving serving(*task);
    if (inst->Ioctl(*task, UKCOV_KCOV_INIT_TRACE, 4096) != 0) return 1;
    if (inst->Ioctl(*task, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC) != 0) return 1;
  }
  uint64_t* area = inst->area().data();
  __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
  {
    ukcov::Serving serving(*task);
    fixture_straight(1);
    fixture_branchy(5);
    if (never) fixture_never(42);
  }
  std::vector<uint64_t> pcs;
  ukcov_engine_run_coverage(
      engine->get(), [](void* ctx, uint64_t pc) { static_cast<std::vector<uint64_t>*>(ctx)->push_back(pc); }, &pcs);
  FILE* run = std::fopen(argv[1], "w");
  if (run == nullptr) return std::perror(argv[1]), 1;
  std::fprintf(run, "# the cover fixture's run\n");
  for (uint64_t pc : pcs) std::fprintf(run, "0x%016" PRIx64 "\n", pc);
  std::fclose(run);
  FILE* dump = std::fopen(argv[2], "wb");
  if (dump == nullptr) return std::perror(argv[2]), 1;
  std::fwrite(area, sizeof(uint64_t), 1 + area[0], dump);
  std::fclose(dump);
  return 0;
}
