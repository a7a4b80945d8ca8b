/* Between `ukcov fuzz`'s target (the host side, src/tools/fuzz_target.cc)
 * and the executor it runs under the sentry (src/fuzz/executor.c): the fds
 * the executor inherits and the memory they share. C and C++.
 *
 * The executor writes a 4-byte hello on the status pipe when ready. Then,
 * per input: the host puts the input in the shared memory and writes 4
 * bytes on the control pipe (0 or 1; above 1: first written to the pid
 * namespace's ns_last_pid, so that the program's pids start there); the executor runs it and answers with the
 * program's 4-byte wait status, its PCs in the shared memory. EOF on the
 * control pipe ends the executor. */
#ifndef UKCOV_FUZZ_PROTOCOL_H_
#define UKCOV_FUZZ_PROTOCOL_H_

#include <stdint.h>

/* The fuzz tmpfs's options: a size limit keeps a program's fallocate from
 * taking the host's memory (the default is half of RAM per mount) and
 * makes ENOSPC reachable. */
#define UKCOV_FUZZ_MOUNT_OPTIONS "size=64m"

/* The sandbox's mark in its fresh /tmp: the executor empties /tmp between
 * programs only where it finds it (runtime.h's FUZZ_SANDBOX_MARK). */
#define UKCOV_FUZZ_SANDBOX_MARK "/tmp/.ukcov-fuzz-sandbox"

#define UKCOV_FUZZ_CONTROL_FD 200
#define UKCOV_FUZZ_STATUS_FD 201
#define UKCOV_FUZZ_SHARED_FD 202

/* `ukcov run --check-invariants`: an ioctl with this command, on any fd,
 * asks the sentry to check its invariants now. The executor asks after each
 * program, once every task of it is gone: the engine holds what it held
 * before the program (tasks, kcov instances, remote handles) and every
 * tmpfs passes its tree check. Broken, the sentry says what broke and
 * aborts, so the program that broke them is the crash. Answered 0 (and
 * ENOTTY without the option, as for any unknown command). */
#define UKCOV_FUZZ_CHECK_INVARIANTS 0x75c1 /* _IO('u', 0xc1) */

#define UKCOV_FUZZ_MAX_INPUT (1u << 16)
#define UKCOV_FUZZ_MAX_PCS (1u << 18)

struct ukcov_fuzz_shared {
  uint32_t input_size;
  uint32_t program_pid; /* the pid the program ran as (the pid spread is checked) */
  uint64_t pc_count;   /* PCs in pcs[] (at most MAX_PCS) */
  uint64_t section_pc; /* pcs[] from here on: the sections' (their own trace) */
  uint8_t input[UKCOV_FUZZ_MAX_INPUT];
  uint64_t pcs[UKCOV_FUZZ_MAX_PCS];
};

#endif /* UKCOV_FUZZ_PROTOCOL_H_ */
