/* A fuzz input as a program of system calls against what the sentry serves.
 *
 * Every byte string is a program: the input is read as a stream, a call's
 * selector byte picks one of the calls below and each argument takes the
 * bytes its kind needs (an fd slot, a path from a table, a length, flags),
 * reading zeros past the end. So the fuzzer's mutations of bytes are
 * mutations of calls and arguments, and no input is rejected.
 *
 * A decoded program is run (by the executor, in runtime.h's child) or
 * printed as C (a reproducer, whose calls are the same raw syscalls with the
 * same arguments). docs/fuzzing.md describes the encoding. */
#ifndef UKCOV_FUZZ_PROGRAM_H_
#define UKCOV_FUZZ_PROGRAM_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FUZZ_MAX_CALLS 32
#define FUZZ_MAX_ARGS 6

enum fuzz_arg_kind {
  FUZZ_CONST,    /* a value */
  FUZZ_SLOT,     /* r[slot]: an earlier call's result */
  FUZZ_STRING,   /* a path or name from the tables */
  FUZZ_BUF,      /* buf + value */
  FUZZ_TIMES,    /* fuzz_times[value] */
  FUZZ_IOV,      /* fuzz_iov[value] */
  FUZZ_HOW,      /* &fuzz_how[value] */
  FUZZ_REMOTE,   /* &fuzz_remote[value] */
  FUZZ_LOCK,     /* &fuzz_locks[value] */
  FUZZ_ARGV,     /* fuzz_argv[value] */
  FUZZ_SOCKADDR, /* fuzz_unix_address(string) */
};

struct fuzz_arg {
  enum fuzz_arg_kind kind;
  int64_t value;
  const char* string;
};

enum fuzz_call_kind {
  FUZZ_SYSCALL,
  FUZZ_FORK,   /* the next `count` calls run in a child process */
  FUZZ_THREAD, /* the next `count` calls run in a new thread, joined */
};

struct fuzz_call {
  enum fuzz_call_kind kind;
  const char* name; /* the syscall's name, for the C: SYS_<name> */
  long nr;
  int nargs;
  struct fuzz_arg args[FUZZ_MAX_ARGS];
  int result_slot; /* r[] gets the result, or -1 */
  int count;       /* a section's length */
};

struct fuzz_program {
  int ncalls;
  struct fuzz_call calls[FUZZ_MAX_CALLS];
};

/* Decodes `size` bytes into `program`. */
void fuzz_decode(const uint8_t* data, size_t size, struct fuzz_program* program);

/* Runs the program's calls (in runtime.h's child); `trace` (or NULL) gets
 * one line per call: its C and what it returned. */
void fuzz_execute(const struct fuzz_program* program, FILE* trace);

/* Writes the program as a standalone C file: runtime.h's text, then the
 * calls. `source` names the input it came from, in a comment. */
void fuzz_print_c(const struct fuzz_program* program, const char* source, FILE* out);

/* The built-in seeds: one small program per area (tmpfs files, directories,
 * names, links, attributes, the kcov device, sections), as inputs. */
size_t fuzz_seed_count(void);
size_t fuzz_seed(size_t i, uint8_t* out, size_t max);

#endif /* UKCOV_FUZZ_PROGRAM_H_ */
