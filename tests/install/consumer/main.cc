// A project using an installed ukcov: records its handler's coverage.
#include <cstdio>

#include "ukcov/ukcov.hpp"

int Handler(int x);

int main() {
  auto engine = ukcov::Engine::Create();
  auto task = ukcov::Task::Create(*engine);
  auto inst = ukcov::Instance::Open(*engine);
  if (!engine || !task || !inst) return 1;
  if (inst->Ioctl(*task, UKCOV_KCOV_INIT_TRACE, 512) != 0) return 2;
  if (inst->Ioctl(*task, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC) != 0) return 3;
  uint64_t* area = inst->area().data();
  area[0] = 0;
  {
    ukcov::Serving serving(*task);
    Handler(-1);
  }
  if (area[0] == 0 || area[1] < UKCOV_CANONICAL_PC_BASE) return 4;
  std::printf("consumer: %llu PCs\n", static_cast<unsigned long long>(area[0]));
  return 0;
}
