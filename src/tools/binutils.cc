#include "tools/binutils.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/unique_fd.h"

extern char** environ;

namespace ukcov::tools {

std::string Binutil(const char* name) {
  const char* prefix = std::getenv("UKCOV_BINUTILS_PREFIX");
  return std::string(prefix != nullptr ? prefix : "") + name;
}

Result<BinutilRun> BinutilRun::Start(const char* name, const std::vector<std::string>& args, int stdin_fd,
                                     std::string* error) {
  const std::string tool = Binutil(name);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return *error = tool + ": pipe", Errno{errno};
  UniqueFd read_end(pipefd[0]), write_end(pipefd[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  std::vector<std::string> all = {tool};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int spawned = posix_spawnp(&pid, tool.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return *error = tool + ": " + std::strerror(spawned), Errno{spawned};
  write_end.reset();
  FILE* out = fdopen(read_end.get(), "r");
  if (out == nullptr) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return *error = tool + ": fdopen", Errno{e};
  }
  (void)read_end.release();
  return BinutilRun(pid, out);
}

BinutilRun::BinutilRun(BinutilRun&& other) noexcept
    : pid_(other.pid_), out_(other.out_), buf_(other.buf_), cap_(other.cap_) {
  other.pid_ = -1;
  other.out_ = nullptr;
  other.buf_ = nullptr;
}

BinutilRun::~BinutilRun() {
  if (out_ != nullptr) std::fclose(out_);
  std::free(buf_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

bool BinutilRun::ReadLine(std::string* line) {
  ssize_t n = getline(&buf_, &cap_, out_);
  if (n <= 0) return false;
  line->assign(buf_, static_cast<size_t>(n));
  while (!line->empty() && (line->back() == '\n' || line->back() == '\r')) line->pop_back();
  return true;
}

Result<void> BinutilRun::Wait() {
  if (out_ != nullptr) {
    std::fclose(out_);
    out_ = nullptr;
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Errno{ENOEXEC};
  return {};
}

}  // namespace ukcov::tools
