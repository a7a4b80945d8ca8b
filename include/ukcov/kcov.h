/* The Linux kcov ABI (include/uapi/linux/kcov.h, x86-64), under ukcov's own
 * names so that this header can sit beside <linux/kcov.h> without clashing.
 * Usable from C and C++. */
#ifndef UKCOV_KCOV_H_
#define UKCOV_KCOV_H_

#include <stdint.h>

/* ioctl commands. INIT_TRACE takes the area size in 8-byte words *by value*
 * despite its _IOR encoding. 0x80046301 (the 32-bit encoding) is not a kcov
 * command on a 64-bit kernel, whose compat path passes the command through:
 * it answers ENOTTY, and so does ukcov. */
#define UKCOV_KCOV_INIT_TRACE 0x80086301u    /* _IOR('c', 1, unsigned long) */
#define UKCOV_KCOV_ENABLE 0x6364u            /* _IO('c', 100) */
#define UKCOV_KCOV_DISABLE 0x6365u           /* _IO('c', 101) */
#define UKCOV_KCOV_REMOTE_ENABLE 0x40186366u /* _IOW('c', 102, struct kcov_remote_arg) */
#define UKCOV_KCOV_UNIQUE_ENABLE 0x40086367u /* _IOW('c', 103, unsigned long) */
#define UKCOV_KCOV_RESET_TRACE 0x6368u       /* _IO('c', 104) */

/* Modes passed to ENABLE and in kcov_remote_arg.trace_mode. */
#define UKCOV_KCOV_TRACE_PC 0
#define UKCOV_KCOV_TRACE_CMP 1

/* Comparison record type bits. */
#define UKCOV_KCOV_CMP_CONST 1u
#define UKCOV_KCOV_CMP_SIZE(n) ((uint64_t)(n) << 1)
#define UKCOV_KCOV_CMP_MASK 6u
/* Words per comparison record: {type, arg1, arg2, pc}. */
#define UKCOV_KCOV_WORDS_PER_CMP 4

/* Remote handles: subsystem in bits 56..63, instance in bits 0..31. */
#define UKCOV_KCOV_SUBSYSTEM_COMMON (0x00ull << 56)
#define UKCOV_KCOV_SUBSYSTEM_USB (0x01ull << 56)
#define UKCOV_KCOV_SUBSYSTEM_MASK (0xffull << 56)
#define UKCOV_KCOV_INSTANCE_MASK 0xffffffffull
#define UKCOV_KCOV_REMOTE_MAX_HANDLES 0x100u

/* The kernel-internal "not supported" that kcov returns. Not EOPNOTSUPP (95). */
#define UKCOV_ENOTSUPP 524

struct ukcov_kcov_remote_arg {
  uint32_t trace_mode;
  uint32_t area_size; /* in words, of the temporary area of each remote section */
  uint32_t num_handles;
  uint32_t pad_;
  uint64_t common_handle;
  uint64_t handles[]; /* num_handles of them */
};

#ifdef __cplusplus
static_assert(sizeof(struct ukcov_kcov_remote_arg) == 24, "Linux layout");
#endif

static inline uint64_t ukcov_kcov_remote_handle(uint64_t subsys, uint64_t inst) {
  if ((subsys & ~UKCOV_KCOV_SUBSYSTEM_MASK) || (inst & ~UKCOV_KCOV_INSTANCE_MASK)) return 0;
  return subsys | inst;
}

/* Canonical PCs: kernel-text-style addresses (see docs/design.md). */
#define UKCOV_CANONICAL_PC_BASE 0xffffffff80000000ull

#endif /* UKCOV_KCOV_H_ */
