// Lexical path operations. Instrumented.
#pragma once

#include <string>

namespace ukcov::sentry {

// Lexical normalisation of an absolute path: "." and repeated slashes go,
// ".." removes the name before it. (For recognising /proc/self/fd/N: the
// walk itself is Vfs::Resolve.)
std::string NormalizePath(const std::string& absolute);

}  // namespace ukcov::sentry
