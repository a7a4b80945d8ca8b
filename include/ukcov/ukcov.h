/* libukcov: the kcov engine for user-space kernels.
 *
 * A host (a user-space kernel, emulator or library OS) keeps one ukcov_task
 * per guest thread and one ukcov_instance per open kcov file, brackets the
 * kernel work it does for a task with ukcov_enter()/ukcov_leave(), and
 * forwards the kcov file's ioctl, mmap and last close. The engine records
 * the coverage of the host's instrumented code into the area of the task
 * being served, exactly as Linux's kernel/kcov.c does. See docs/embedding.md.
 *
 * Errors at this boundary are negative errno values, as a syscall returns
 * them. Every function is thread-safe unless it says otherwise. */
#ifndef UKCOV_UKCOV_H_
#define UKCOV_UKCOV_H_

#include <stddef.h>
#include <stdint.h>

#include "ukcov/kcov.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define UKCOV_API __attribute__((visibility("default")))
#else
#define UKCOV_API
#endif

typedef struct ukcov_engine ukcov_engine;
typedef struct ukcov_task ukcov_task;
typedef struct ukcov_instance ukcov_instance;

/* ---- Instrumentation (what the build compiled in) ------------------------ */

enum {
  UKCOV_FEATURE_CMP = 1u << 0,    /* comparison callbacks: KCOV_TRACE_CMP works */
  UKCOV_FEATURE_GUARDS = 1u << 1, /* trace-pc-guard: KCOV_UNIQUE_ENABLE works */
  UKCOV_FEATURE_COUNTERS = 1u << 2, /* inline 8-bit counters + pc-table: coverage collected at leave */
};

/* Called by the constructor that ukcov_instrument() adds to each instrumented
 * target: `features` is what its flags provide, `module_address` any address
 * inside the instrumented module. */
UKCOV_API void ukcov_register_instrumentation(unsigned features, const void* module_address);
/* Union of the features registered so far. */
UKCOV_API unsigned ukcov_registered_features(void);
/* Number of trace-pc-guard sites numbered so far (bits 1..n of a unique bitmap). */
UKCOV_API uint32_t ukcov_guard_count(void);

/* ---- Engine ------------------------------------------------------------- */

enum ukcov_pc_encoding {
  /* 0xffffffff80000000 + (return address - load base of the instrumented
   * module): passes syzkaller's amd64 kernel-range check, stable under ASLR. */
  UKCOV_PC_CANONICAL = 0,
  /* The return address as it is in the host's address space. */
  UKCOV_PC_RAW = 1,
  /* Counters backend only: gVisor's synthetic PCs, ~(block | function << 8 |
   * package << 20) as a 64-bit value, with the blocks, functions and modules
   * of the PC table numbered in order (a "package" per 4096 functions of a
   * module; a function of more than 256 blocks continues in the next
   * function number). Tools built for gVisor's kcov read them; this process
   * turns them back into addresses with ukcov_gvisor_pc_address(). */
  UKCOV_PC_GVISOR = 2,
};

typedef struct ukcov_engine_options {
  int pc_encoding;          /* enum ukcov_pc_encoding */
  const void* pc_module;    /* any address in the module whose PCs are canonicalised;
                               NULL: the first instrumented module registered, else
                               the main executable */
  int64_t features;         /* UKCOV_FEATURE_* bits; -1: what the build registered */
  int run_coverage;         /* 1: also collect the whole run's coverage, every block of
                               the instrumented module that runs while this engine
                               serves any task (ukcov_engine_run_coverage). One engine
                               of a process at a time. Default 0 */
} ukcov_engine_options;

UKCOV_API void ukcov_engine_options_init(ukcov_engine_options* options);
/* 0, or -ENOMEM / -EINVAL (pc_module not inside a loaded module) / -EBUSY
 * (run_coverage, and another engine of this process collects it). */
UKCOV_API int ukcov_engine_create(const ukcov_engine_options* options, ukcov_engine** out);
/* Drops the host's reference. The engine's memory lives on until its last
 * task and instance are released. */
UKCOV_API void ukcov_engine_destroy(ukcov_engine* engine);
UKCOV_API unsigned ukcov_engine_features(const ukcov_engine* engine);
/* A UKCOV_PC_GVISOR PC back to the address of its block in this process:
 * 0, or -ENOENT when no registered block has that number (or this is not a
 * counters build). */
UKCOV_API int ukcov_gvisor_pc_address(uint64_t pc, uintptr_t* address);

/* The whole run's coverage so far (options.run_coverage): `visit` is called
 * once for each block that ran, ascending, with its PC in the engine's
 * encoding (as a kcov area would hold it). Returns the number of PCs, or
 * -EINVAL when the engine does not collect it. Call it when no task is
 * being served to see every block: blocks that run meanwhile may or may
 * not be included. */
UKCOV_API long ukcov_engine_run_coverage(ukcov_engine* engine, void (*visit)(void* context, uint64_t pc),
                                         void* context);

/* Objects of the engine still alive (for leak checks). */
typedef struct ukcov_engine_stats {
  uint64_t tasks;
  uint64_t instances;
  uint64_t handles; /* registered remote handles */
} ukcov_engine_stats;
UKCOV_API void ukcov_engine_get_stats(ukcov_engine* engine, ukcov_engine_stats* out);

/* How the engine encodes PCs: an address in the host maps to
 * `addr + bias` when `addr - lo < len`, else stays raw. */
typedef struct ukcov_pc_map {
  uint64_t lo, len, bias;
  uint64_t load_base; /* load base of the module (its ELF address 0) */
} ukcov_pc_map;
UKCOV_API void ukcov_engine_pc_map(const ukcov_engine* engine, ukcov_pc_map* out);
UKCOV_API uint64_t ukcov_engine_encode_pc(const ukcov_engine* engine, uintptr_t address);

/* ---- Tasks (guest threads) ---------------------------------------------- */

/* A task with no kcov state and no common handle. NULL when out of memory. */
UKCOV_API ukcov_task* ukcov_task_create(ukcov_engine* engine);
/* A task created by `parent` (fork or clone): no instance of its own; it
 * inherits the parent's common remote handle (Linux kcov_task_init). */
UKCOV_API ukcov_task* ukcov_task_fork(ukcov_task* parent);
/* The task has exited: an instance it owns is disabled as by KCOV_DISABLE
 * (Linux kcov_task_exit). The handle stays valid, so a host thread still
 * finishing the task's last syscall may go on using it; idempotent. */
UKCOV_API void ukcov_task_exited(ukcov_task* task);
/* ukcov_task_exited(), then drops the host's reference to the task. */
UKCOV_API void ukcov_task_exit(ukcov_task* task);
/* The common handle set by the task's REMOTE_ENABLE or inherited; 0 if none. */
UKCOV_API uint64_t ukcov_task_common_handle(ukcov_task* task);

/* ---- Serving: which task this host thread runs kernel code for ---------- */

/* From now until ukcov_leave() this host thread runs kernel code for `task`:
 * the callbacks record into the task's area if it has an enabled instance. */
UKCOV_API void ukcov_enter(ukcov_task* task);
/* The task returns to user space. */
UKCOV_API void ukcov_leave(void);
/* The task this thread serves, or NULL. */
UKCOV_API ukcov_task* ukcov_current(void);
/* Linux kcov_common_handle(): the served task's common handle, 0 if none. */
UKCOV_API uint64_t ukcov_common_handle(void);

/* ---- Instances (open kcov files) ---------------------------------------- */

/* Reads guest memory for ioctls that take a pointer (REMOTE_ENABLE).
 * Returns 0, or -EFAULT. */
typedef struct ukcov_user_memory {
  void* context;
  int (*read)(void* context, void* dst, uint64_t guest_address, size_t length);
} ukcov_user_memory;

/* open("/sys/kernel/debug/kcov"): a new instance, state DISABLED, with one
 * reference for the open file. 0, or -ENOMEM / -EMFILE / -ENFILE. */
UKCOV_API int ukcov_instance_open(ukcov_engine* engine, ukcov_instance** out);
/* Another reference (the host shares one open file between fds by itself;
 * use this only for references the host keeps elsewhere). */
UKCOV_API void ukcov_instance_get(ukcov_instance* instance);
/* The open file's last close (or another reference dropped). Collection goes
 * on while a task owns the instance. */
UKCOV_API void ukcov_instance_put(ukcov_instance* instance);
/* ioctl(fd, cmd, arg) issued by `caller`, which this thread serves.
 * `memory` reads guest pointers; NULL reads the host's own memory safely.
 * Returns 0 or -errno exactly as Linux. */
UKCOV_API long ukcov_instance_ioctl(ukcov_instance* instance, ukcov_task* caller, unsigned int cmd,
                                    unsigned long arg, const ukcov_user_memory* memory);
/* mmap validation: 0 when a mapping of `length` bytes (rounded up to pages)
 * at page offset `pgoff` may map the area, else -EINVAL. On 0, the host maps
 * ukcov_instance_area_fd() at offset 0: those are the very pages recorded into. */
UKCOV_API int ukcov_instance_mmap_check(ukcov_instance* instance, uint64_t pgoff, uint64_t length);
/* The memfd behind the area, valid from open (size 0 until INIT_TRACE, then
 * sealed against growing and shrinking). Owned by the instance. */
UKCOV_API int ukcov_instance_area_fd(const ukcov_instance* instance);
/* The engine's own mapping of the area and its size in words (NULL, 0 before
 * INIT_TRACE). Valid while the caller holds a reference. */
UKCOV_API uint64_t* ukcov_instance_area(ukcov_instance* instance, uint64_t* words);

/* ---- Remote coverage ---------------------------------------------------- */

/* Linux kcov_remote_start(): background work on this thread for `handle`.
 * 0 when collecting; -ENOENT when no instance registered the handle; -EBUSY
 * when this thread is already collecting; -ENOMEM. */
UKCOV_API int ukcov_remote_start(ukcov_engine* engine, uint64_t handle);
/* Linux kcov_remote_stop(): appends what was collected to the instance's area
 * unless it was disabled meanwhile. No-op when no section is open. */
UKCOV_API void ukcov_remote_stop(void);

#ifdef __cplusplus
}
#endif

#endif /* UKCOV_UKCOV_H_ */
