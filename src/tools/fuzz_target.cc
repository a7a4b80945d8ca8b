#include "tools/fuzz_target.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/unique_fd.h"
#include "fuzz/protocol.h"
#include "tools/blocks.h"
#include "tools/fuzz_sandbox.h"

namespace ukcov::tools {
namespace {

// AFL's fork-server fds (FORKSRV_FD and FORKSRV_FD + 1).
constexpr int kAflControlFd = 198;
constexpr int kAflStatusFd = 199;
// How long a fresh sentry may take to say hello (an ASan build is slow).
constexpr int kStartMillis = 60000;
// The executor's exit when what a program left cannot be removed
// (runtime.h's FUZZ_STATE_EXIT).
constexpr int kStateExit = 97;

bool ReadWord(int fd, uint32_t* word) {
  size_t done = 0;
  while (done < sizeof *word) {
    ssize_t got = read(fd, reinterpret_cast<char*>(word) + done, sizeof *word - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<size_t>(got);
  }
  return true;
}

bool WriteWord(int fd, uint32_t word) {
  ssize_t put;
  do put = write(fd, &word, sizeof word);
  while (put < 0 && errno == EINTR);
  return put == sizeof word;
}

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// splitmix64's finalizer: a PC's bits spread over the edge map.
uint32_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return static_cast<uint32_t>(x);
}

uint64_t Fnv1a(const std::vector<uint8_t>& data) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : data) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

bool WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return false;
  }
  return rename(tmp.c_str(), path.c_str()) == 0;
}

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Target {
 public:
  explicit Target(const FuzzTargetOptions& options) : options_(options) {}
  ~Target() { StopSentry(); }

  bool Init(std::string* error) {
    mkdir(options_.workdir.c_str(), 0755);
    mkdir((options_.workdir + "/crashes").c_str(), 0755);
    shared_fd_.reset(memfd_create("ukcov-fuzz-shared", MFD_CLOEXEC));
    if (!shared_fd_ || ftruncate(shared_fd_.get(), sizeof(ukcov_fuzz_shared)) != 0) {
      *error = std::string("memfd: ") + std::strerror(errno);
      return false;
    }
    void* p = mmap(nullptr, sizeof(ukcov_fuzz_shared), PROT_READ | PROT_WRITE, MAP_SHARED, shared_fd_.get(), 0);
    if (p == MAP_FAILED) {
      *error = std::string("mmap: ") + std::strerror(errno);
      return false;
    }
    shared_ = static_cast<ukcov_fuzz_shared*>(p);
    // AFL's edge map; alone (no AFL), a private one.
    if (const char* id = std::getenv("__AFL_SHM_ID"); id != nullptr) {
      void* map = shmat(std::atoi(id), nullptr, 0);
      if (map == reinterpret_cast<void*>(-1)) {
        *error = std::string("shmat(__AFL_SHM_ID): ") + std::strerror(errno);
        return false;
      }
      trace_bits_ = static_cast<uint8_t*>(map);
      if (const char* size = std::getenv("AFL_MAP_SIZE"); size != nullptr && std::atoi(size) > 0)
        map_size_ = static_cast<uint32_t>(std::atoi(size));
    } else {
      own_map_.assign(map_size_, 0);
      trace_bits_ = own_map_.data();
    }
    // The edge index is masked: a power of two at most the map's size.
    map_mask_ = 1;
    while (map_mask_ * 2 <= map_size_) map_mask_ *= 2;
    map_mask_ -= 1;
    // Only the sentry's blocks are its coverage: a word of the area that is
    // none (a guest that reached the collector's memory or its mode) would
    // be an edge AFL rewards and a block the union counts.
    Result<Blocks> blocks = InstrumentedBlocks(options_.sentry, error);
    if (!blocks) return false;
    blocks_ = BlockSet(blocks.value());
    return true;
  }

  // Serves AFL until it closes the control pipe. Alone (no fd 199), runs
  // the input once and says what happened.
  int Serve() {
    if (!WriteWord(kAflStatusFd, 0)) return RunAlone();
    uint32_t word;
    while (ReadWord(kAflControlFd, &word)) {
      std::string error;
      if (sandbox_.pid < 0 && !StartSentry(&error)) {
        std::fprintf(stderr, "ukcov fuzz-target: cannot start the sentry: %s\n", error.c_str());
        return 1;
      }
      std::vector<uint8_t> input = ReadInput(options_.input);
      // AFL kills this pid at its timeout: the sandbox's init, which ends
      // the whole run (a hang).
      if (!WriteWord(kAflStatusFd, static_cast<uint32_t>(sandbox_.pid))) return 1;
      int status = RunOne(input);
      if (!WriteWord(kAflStatusFd, static_cast<uint32_t>(status))) return 1;
      if (Now() - last_flush_ >= 1.0) Flush();
    }
    Flush();
    return 0;
  }

 private:
  int RunAlone() {
    std::string error;
    if (!StartSentry(&error)) {
      std::fprintf(stderr, "ukcov fuzz-target: cannot start the sentry: %s\n", error.c_str());
      return 1;
    }
    std::vector<std::string> inputs = {options_.input};
    inputs.insert(inputs.end(), options_.more_inputs.begin(), options_.more_inputs.end());
    int failures = 0;
    for (const std::string& path : inputs) {
      std::vector<uint8_t> input = ReadInput(path);
      std::vector<std::vector<uint64_t>> sets;
      for (int i = 0; i < options_.repeat; i++) {
        if (sandbox_.pid < 0 && !StartSentry(&error)) {
          std::fprintf(stderr, "ukcov fuzz-target: cannot start the sentry: %s\n", error.c_str());
          return 1;
        }
        const uint32_t start = options_.spread_pids ? PidStart(i) : 0;
        int status = RunOne(input, start);
        if (start != 0 && shared_->program_pid != start + 1) {
          std::printf("%s: run %d: the program ran as pid %u, not %u: the pids are not spread\n", path.c_str(),
                      i + 1, shared_->program_pid, start + 1);
          failures++;
          break;
        }
        if (status != 0) {
          std::printf("%s: run %d: the sentry failed (status 0x%x; see %s/crashes)\n", path.c_str(), i + 1, status,
                      options_.workdir.c_str());
          failures++;
          break;
        }
        std::vector<uint64_t> set(shared_->pcs, shared_->pcs + last_pc_count_);
        std::sort(set.begin(), set.end());
        set.erase(std::unique(set.begin(), set.end()), set.end());
        if (std::find(sets.begin(), sets.end(), set) == sets.end()) sets.push_back(std::move(set));
      }
      if (sets.size() <= 1) {
        std::printf("%s: %d run%s, one PC set (%zu PCs)\n", path.c_str(), options_.repeat,
                    options_.repeat == 1 ? "" : "s", sets.empty() ? 0 : sets[0].size());
        continue;
      }
      failures++;
      std::printf("%s: %d runs, %zu distinct PC sets; PCs not in every set:\n", path.c_str(), options_.repeat,
                  sets.size());
      std::vector<uint64_t> all, common = sets[0];
      for (const auto& set : sets) {
        all.insert(all.end(), set.begin(), set.end());
        std::vector<uint64_t> both;
        std::set_intersection(common.begin(), common.end(), set.begin(), set.end(), std::back_inserter(both));
        common = std::move(both);
      }
      std::sort(all.begin(), all.end());
      all.erase(std::unique(all.begin(), all.end()), all.end());
      for (uint64_t pc : all)
        if (!std::binary_search(common.begin(), common.end(), pc)) std::printf("0x%" PRIx64 "\n", pc);
    }
    Flush();
    return failures == 0 ? 0 : 1;
  }

  std::vector<uint8_t> ReadInput(const std::string& path) {
    std::vector<uint8_t> input;
    std::ifstream in(path, std::ios::binary);
    input.assign(std::istreambuf_iterator<char>(in), {});
    if (input.size() > UKCOV_FUZZ_MAX_INPUT) input.resize(UKCOV_FUZZ_MAX_INPUT);
    return input;
  }

  bool StartSentry(std::string* error) {
    std::string log_path = options_.workdir + "/sentry.log";
    UniqueFd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!log) {
      *error = log_path + ": " + std::strerror(errno);
      return false;
    }
    int control[2], status[2];
    if (pipe2(control, O_CLOEXEC) != 0) {
      *error = std::string("pipe: ") + std::strerror(errno);
      return false;
    }
    UniqueFd control_read(control[0]);
    control_.reset(control[1]);
    if (pipe2(status, O_CLOEXEC) != 0) {
      *error = std::string("pipe: ") + std::strerror(errno);
      return false;
    }
    status_.reset(status[0]);
    UniqueFd status_write(status[1]);
    SandboxSpec spec;
    spec.sentry = options_.sentry;
    spec.sentry_options = {"--check-invariants"};
    spec.environment = SentrySanitizerEnvironment();
    spec.guest = {options_.executor, "serve"};
    spec.fds = {{control_read.get(), UKCOV_FUZZ_CONTROL_FD},
                {status_write.get(), UKCOV_FUZZ_STATUS_FD},
                {shared_fd_.get(), UKCOV_FUZZ_SHARED_FD}};
    spec.stdout_fd = log.get();
    spec.stderr_fd = log.get();
    Result<Sandbox> sandbox = SpawnSandbox(spec, error);
    if (!sandbox) return false;
    sandbox_ = std::move(*sandbox);
    restarts_++;
    // The executor's hello: the sentry serves and the collector is ready.
    pollfd p{status_.get(), POLLIN, 0};
    int ready;
    do ready = poll(&p, 1, kStartMillis);
    while (ready < 0 && errno == EINTR);
    uint32_t hello;
    if (ready <= 0 || !ReadWord(status_.get(), &hello)) {
      StopSentry();
      *error = "no hello from the executor (its log: " + log_path + "):\n" + ReadFileText(log_path);
      return false;
    }
    return true;
  }

  void StopSentry() {
    if (sandbox_.pid < 0) return;
    kill(sandbox_.pid, SIGKILL);
    WaitSandbox(sandbox_);
    control_.reset();
    status_.reset();
  }

  // Where run i's pids start: as tests/guest/run_stable.sh spreads them.
  static uint32_t PidStart(int i) {
    static const uint32_t pid_max = [] {
      std::ifstream in("/proc/sys/kernel/pid_max");
      uint32_t v = 32768;
      in >> v;
      return v;
    }();
    const uint32_t starts[] = {100, 1000, 10000, 100000, 1000000, pid_max - 40, 300, 5000, 70000, 900000};
    uint32_t start = starts[i % 10] + static_cast<uint32_t>(i);
    if (start >= pid_max - 4) start = start - pid_max + 300;
    return start;
  }

  // One input; the wait status AFL is to see. `pid_start`: see protocol.h.
  int RunOne(const std::vector<uint8_t>& input, uint32_t pid_start = 0) {
    std::memcpy(shared_->input, input.data(), input.size());
    shared_->input_size = static_cast<uint32_t>(input.size());
    shared_->pc_count = 0;
    execs_++;
    uint32_t guest_status;
    if (WriteWord(control_.get(), pid_start) && ReadWord(status_.get(), &guest_status)) {
      Fold();
      if (WIFSIGNALED(guest_status) && WTERMSIG(guest_status) != SIGALRM) guest_signals_++;
      if (WIFSIGNALED(guest_status) && WTERMSIG(guest_status) == SIGALRM) guest_timeouts_++;
      return 0;
    }
    // The sentry is gone: reaped here, its outcome the input's.
    int status = WaitSandbox(sandbox_);
    control_.reset();
    status_.reset();
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      hangs_++;  // AFL's timeout (or the OOM killer): AFL judges
      return status;
    }
    crashes_++;
    Record(input, status);
    return WIFSIGNALED(status) ? status : SIGABRT;  // an exit while serving counts as an abort
  }

  // The program's PCs: AFL's edges (PC pairs in the order they ran, as
  // AFL's own instrumentation counts them) and the union so far.
  void Fold() {
    uint64_t n = std::min<uint64_t>(shared_->pc_count, UKCOV_FUZZ_MAX_PCS);
    last_pc_count_ = n;
    uint32_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
      if (i == shared_->section_pc) prev = 0;  // the sections' trace: edges of its own
      uint64_t pc = shared_->pcs[i];
      if (!blocks_.Contains(pc)) {
        foreign_pcs_++;
        continue;
      }
      uint32_t cur = Mix(pc);
      trace_bits_[(cur ^ prev) & map_mask_]++;
      prev = cur >> 1;
      if (seen_.insert(pc).second) dirty_ = true;
    }
  }

  // A crash's evidence: the input, the sentry's stderr, the C reproducer.
  void Record(const std::vector<uint8_t>& input, int status) {
    char name[32];
    std::snprintf(name, sizeof name, "%016" PRIx64, Fnv1a(input));
    std::string dir = options_.workdir + "/crashes/" + name;
    mkdir(dir.c_str(), 0755);
    std::string input_path = dir + "/input";
    WriteFileAtomically(input_path, std::string(input.begin(), input.end()));
    std::string log = ReadFileText(options_.workdir + "/sentry.log");
    char how[96];
    if (WIFSIGNALED(status))
      std::snprintf(how, sizeof how, "the sentry died by signal %d (%s)\n", WTERMSIG(status),
                    strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) == kStateExit)
      std::snprintf(how, sizeof how, "the executor found the sentry's state broken (exit %d)\n", kStateExit);
    else
      std::snprintf(how, sizeof how, "ukcov run exited %d while serving\n", WEXITSTATUS(status));
    WriteFileAtomically(dir + "/report", how + log);
    // The executor prints C natively: nothing in that mode needs the sentry.
    pid_t pid = fork();
    if (pid == 0) {
      int out = open((dir + "/repro.c").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out >= 0) dup2(out, 1);
      execl(options_.executor.c_str(), options_.executor.c_str(), "c", input_path.c_str(), input_path.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid > 0)
      while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    Flush();
  }

  void Flush() {
    last_flush_ = Now();
    if (dirty_) {
      std::vector<uint64_t> pcs(seen_.begin(), seen_.end());
      std::sort(pcs.begin(), pcs.end());
      std::string text;
      text.reserve(pcs.size() * 19);
      char line[24];
      for (uint64_t pc : pcs) {
        std::snprintf(line, sizeof line, "0x%" PRIx64 "\n", pc);
        text += line;
      }
      if (WriteFileAtomically(options_.workdir + "/coverage.pcs", text)) dirty_ = false;
    }
    char stats[512];
    std::snprintf(stats, sizeof stats,
                  "execs %" PRIu64 "\nblocks %zu\ncrashes %" PRIu64 "\nhangs %" PRIu64 "\nsentry_starts %" PRIu64
                  "\nguest_signals %" PRIu64 "\nguest_timeouts %" PRIu64 "\nforeign_pcs %" PRIu64 "\n",
                  execs_, seen_.size(), crashes_, hangs_, restarts_, guest_signals_, guest_timeouts_, foreign_pcs_);
    WriteFileAtomically(options_.workdir + "/stats", stats);
  }

  const FuzzTargetOptions options_;
  UniqueFd shared_fd_;
  ukcov_fuzz_shared* shared_ = nullptr;
  uint8_t* trace_bits_ = nullptr;
  std::vector<uint8_t> own_map_;
  uint32_t map_size_ = 1u << 16;  // AFL's MAP_SIZE
  uint32_t map_mask_ = 0;
  Sandbox sandbox_;  // the running sentry's, if any
  UniqueFd control_, status_;
  std::unordered_set<uint64_t> seen_;
  bool dirty_ = false;
  double last_flush_ = 0;
  uint64_t last_pc_count_ = 0;
  uint64_t execs_ = 0, crashes_ = 0, hangs_ = 0, restarts_ = 0, guest_signals_ = 0, guest_timeouts_ = 0;
  uint64_t foreign_pcs_ = 0;  // words of the area that are no block of the sentry, dropped
  BlockSet blocks_;
};

}  // namespace

int RunFuzzTarget(const FuzzTargetOptions& options) {
  signal(SIGPIPE, SIG_IGN);  // a dead sentry's pipe: an error to handle, not a death
  Target target(options);
  std::string error;
  if (!target.Init(&error)) {
    std::fprintf(stderr, "ukcov fuzz-target: %s\n", error.c_str());
    return 1;
  }
  return target.Serve();
}

}  // namespace ukcov::tools
