/* A C program built with `pkg-config --cflags --libs ukcov`. */
#include <stdio.h>

#include "ukcov/ukcov.h"

int main(void) {
  ukcov_engine* engine;
  if (ukcov_engine_create(NULL, &engine) != 0) return 1;
  ukcov_task* task = ukcov_task_create(engine);
  ukcov_instance* inst;
  if (ukcov_instance_open(engine, &inst) != 0) return 2;
  ukcov_enter(task);
  long r1 = ukcov_instance_ioctl(inst, task, UKCOV_KCOV_INIT_TRACE, 512, NULL);
  long r2 = ukcov_instance_ioctl(inst, task, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_CMP, NULL);
  ukcov_leave();
  ukcov_instance_put(inst);
  ukcov_task_exit(task);
  ukcov_engine_destroy(engine);
  /* Nothing here was compiled with comparison callbacks: 524. */
  if (r1 != 0 || r2 != -UKCOV_ENOTSUPP) return 3;
  printf("pkgconfig_consumer: ok\n");
  return 0;
}
