// Running a binutils program (addr2line, objdump) and reading its output
// as it comes. One concept: the child, its stdout stream, its exit.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

#include "ukcov/result.hpp"

namespace ukcov::tools {

// The path of binutils' `name`: UKCOV_BINUTILS_PREFIX (a cross prefix such
// as "x86_64-linux-gnu-") then the plain name.
std::string Binutil(const char* name);

class BinutilRun {
 public:
  // Starts `name` with `args` (argv[1]...), stdin from `stdin_fd` (-1: this
  // process's). `error` says what failed.
  static Result<BinutilRun> Start(const char* name, const std::vector<std::string>& args, int stdin_fd,
                                  std::string* error);
  BinutilRun(BinutilRun&& other) noexcept;
  BinutilRun& operator=(BinutilRun&&) = delete;
  ~BinutilRun();  // not waited for: closes the stream and reaps the child

  // Its standard output; read until EOF, then Wait().
  FILE* out() { return out_; }
  // Reads one line without its newline; false at EOF.
  bool ReadLine(std::string* line);
  // Its exit: ENOEXEC unless it exited 0.
  Result<void> Wait();

 private:
  BinutilRun(pid_t pid, FILE* out) : pid_(pid), out_(out) {}
  pid_t pid_;
  FILE* out_;
  char* buf_ = nullptr;
  size_t cap_ = 0;
};

}  // namespace ukcov::tools
