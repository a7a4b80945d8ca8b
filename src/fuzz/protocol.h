/* Between `ukcov fuzz`'s target (the host side, src/tools/fuzz_target.cc)
 * and the executor it runs under the sentry (src/fuzz/executor.c): the fds
 * the executor inherits and the memory they share. C and C++.
 *
 * The executor writes a 4-byte hello on the status pipe when ready. Then,
 * per input: the host puts the input in the shared memory and writes 4
 * bytes on the control pipe; the executor runs it and answers with the
 * program's 4-byte wait status, its PCs in the shared memory. EOF on the
 * control pipe ends the executor. */
#ifndef UKCOV_FUZZ_PROTOCOL_H_
#define UKCOV_FUZZ_PROTOCOL_H_

#include <stdint.h>

#define UKCOV_FUZZ_CONTROL_FD 200
#define UKCOV_FUZZ_STATUS_FD 201
#define UKCOV_FUZZ_SHARED_FD 202

#define UKCOV_FUZZ_MAX_INPUT (1u << 16)
#define UKCOV_FUZZ_MAX_PCS (1u << 18)

struct ukcov_fuzz_shared {
  uint32_t input_size;
  uint32_t reserved;
  uint64_t pc_count; /* PCs the program's main thread recorded (at most MAX_PCS) */
  uint8_t input[UKCOV_FUZZ_MAX_INPUT];
  uint64_t pcs[UKCOV_FUZZ_MAX_PCS];
};

#endif /* UKCOV_FUZZ_PROTOCOL_H_ */
