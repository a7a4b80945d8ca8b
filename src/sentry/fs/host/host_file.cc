#include "sentry/fs/host/host_file.h"

namespace ukcov::sentry {

std::shared_ptr<HostFile> HostFile::Get() {
  static const std::shared_ptr<HostFile> file = std::make_shared<HostFile>();
  return file;
}

}  // namespace ukcov::sentry
