// Where a guest path leads, for routing it to the sentry's mounts.
// Instrumented.
#pragma once

#include <string>

#include "ukcov/result.hpp"

namespace ukcov::sentry {

struct TaskState;

struct GuestPath {
  std::string path;     // absolute, "." ".." and repeated slashes folded
  bool trailing_slash;  // the path ended in '/' (so it must name a directory)
};

// The absolute form of `path` as seen by `task` from `dirfd` (AT_FDCWD: its
// working directory). ENOENT for an empty path, EBADF/ENOTDIR for a bad
// dirfd under a relative path. Host symlinks are not followed: a path
// reaches a sentry mount only by its own name (docs/sentry.md).
Result<GuestPath> ResolvePath(const TaskState& task, int dirfd, const std::string& path);

// Lexical normalisation of an absolute path.
std::string NormalizePath(const std::string& absolute);

}  // namespace ukcov::sentry
