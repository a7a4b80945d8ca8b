#include "sentry/vfs/path.h"

#include "base/lexical_path.h"

namespace ukcov::sentry {

std::string NormalizePath(const std::string& absolute) { return NormalizeLexically(absolute); }

}  // namespace ukcov::sentry
