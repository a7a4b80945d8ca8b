// `ukcov run --coverage=FILE`: the whole run's coverage of the sentry, as a
// list of canonical PCs (hex, one per line, ascending) under a '#' header
// naming the binary and its build ID, so that `ukcov cover` (and syzkaller,
// and `ukcov symbolize`) read it. Plumbing: not instrumented.
//
// The file is created (as FILE.tmp.PID) before the guest starts, so that a
// path that cannot be written fails the run at once, and renamed over FILE
// when the run ends: a reader never sees half a file, and a run that did
// not finish leaves FILE as it was.
#pragma once

#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "ukcov/result.hpp"
#include "ukcov/ukcov.hpp"

namespace ukcov::sentry {

class CoverageFile {
 public:
  // `pattern`: the file's path; "%p" in it is this process's pid.
  static Result<CoverageFile> Create(const std::string& pattern);
  CoverageFile(CoverageFile&& other) noexcept;
  CoverageFile& operator=(CoverageFile&&) = delete;
  ~CoverageFile();  // not committed: the temporary file goes

  // Writes `engine`'s run coverage and renames it into place. `argv`: the
  // guest's command, for the header.
  Result<void> Commit(const ukcov::Engine& engine, const std::vector<std::string>& argv);

 private:
  CoverageFile(std::string path, std::string temp, UniqueFd fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(std::move(fd)) {}
  std::string path_, temp_;
  UniqueFd fd_;
};

// This executable's GNU build ID in hex (from its loaded notes), or empty.
std::string OwnBuildId();

}  // namespace ukcov::sentry
