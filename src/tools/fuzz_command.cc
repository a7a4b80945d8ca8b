#include "tools/fuzz_command.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "tools/fuzz_sandbox.h"
#include "tools/pc_input.h"

namespace ukcov::tools {
namespace {

namespace fs = std::filesystem;

volatile sig_atomic_t g_stop = 0;
void OnStop(int) { g_stop = 1; }

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Runs argv with stdout and stderr to `log` (-1: ours), env additions;
// returns the pid.
// Waits (up to 10 s) until afl-fuzz `pid` has bound itself to one CPU, has
// found none free (its log says so), or has ended. AFL picks a core no
// other afl-fuzz is bound to, by looking at the others' affinity: instances
// started at once all picked the same one.
void AwaitCpuBinding(pid_t pid, const std::string& log_path) {
  for (int i = 0; i < 200; i++) {
    cpu_set_t set;
    if (sched_getaffinity(pid, sizeof set, &set) != 0 || CPU_COUNT(&set) == 1) return;
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) return;
    std::ifstream log(log_path);
    std::stringstream text;
    text << log.rdbuf();
    if (text.str().find("No more free CPU cores") != std::string::npos) return;
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
}

pid_t Spawn(const std::vector<std::string>& argv, int log, const std::vector<std::string>& env) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
  if (log >= 0) {
    dup2(log, 1);
    dup2(log, 2);
  }
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, 0);  // afl-fuzz reads keys from a terminal
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  std::fprintf(stderr, "ukcov fuzz: %s: %s\n", args[0], std::strerror(errno));
  _exit(127);
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::map<std::string, std::string> ReadKeyValues(const std::string& path, char separator) {
  std::map<std::string, std::string> values;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find(separator);
    if (at == std::string::npos) continue;
    std::string key = line.substr(0, at), value = line.substr(at + 1);
    while (!key.empty() && key.back() == ' ') key.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    values[key] = value;
  }
  return values;
}

uint64_t Number(const std::map<std::string, std::string>& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
}

// A worker's coverage.pcs (written whole, by rename): empty until it exists.
std::set<uint64_t> ReadPcs(const std::string& path) {
  std::ifstream in(path);
  PcList list = ReadPcList(in);
  return std::set<uint64_t>(list.pcs.begin(), list.pcs.end());
}

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct Instance {
  std::string name;
  pid_t pid = -1;
  int status = 0;
};

struct Totals {
  uint64_t execs = 0, corpus = 0, crashes = 0, hangs = 0;
  double per_second = 0;  // since the last line
  std::set<uint64_t> blocks;
};

Totals Gather(const FuzzOptions& options, const std::vector<Instance>& instances) {
  Totals t;
  for (const Instance& i : instances) {
    auto target = ReadKeyValues(options.out + "/workers/" + i.name + "/stats", ' ');
    t.execs += Number(target, "execs");
    t.crashes += Number(target, "crashes");
    t.hangs += Number(target, "hangs");
    // AFL's fuzzer_stats lag by a minute without its UI: its queue does not.
    std::error_code ec;
    // AFL's -n writes straight into -o, without an instance directory.
    std::string queue = options.out + "/afl" + (options.blind ? "" : "/" + i.name) + "/queue";
    for (const auto& entry : fs::directory_iterator(queue, ec))
      if (entry.is_regular_file()) t.corpus++;
    for (uint64_t pc : ReadPcs(options.out + "/workers/" + i.name + "/coverage.pcs")) t.blocks.insert(pc);
  }
  return t;
}

std::string Line(double elapsed, const Totals& t) {
  char line[200];
  std::snprintf(line, sizeof line,
                "[%6.0fs] execs %" PRIu64 " (%.0f/s)  corpus %" PRIu64 "  blocks %zu  crashes %" PRIu64
                "  hangs %" PRIu64,
                elapsed, t.execs, t.per_second, t.corpus, t.blocks.size(), t.crashes, t.hangs);
  return line;
}

std::vector<std::string> Crashes(const FuzzOptions& options, const std::vector<Instance>& instances) {
  std::vector<std::string> dirs;
  for (const Instance& i : instances) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options.out + "/workers/" + i.name + "/crashes", ec))
      dirs.push_back(entry.path().string());
  }
  return dirs;
}

int Replay(const FuzzOptions& options) {
  // The program: a .c reproducer (compiled here), or an input the executor
  // runs. Passed by fd: the sandbox has a /tmp of its own.
  bool is_c = options.replay.size() > 2 && options.replay.compare(options.replay.size() - 2, 2, ".c") == 0;
  UniqueFd program;
  std::vector<std::string> guest;
  SandboxSpec spec;
  if (is_c) {
    char binary[] = "/tmp/ukcov-replay.XXXXXX";
    int fd = mkstemp(binary);
    if (fd < 0) {
      std::fprintf(stderr, "ukcov fuzz: mkstemp: %s\n", std::strerror(errno));
      return 2;
    }
    close(fd);
    pid_t cc = Spawn({FindOnPath("cc"), "-static", "-pthread", "-O1", "-o", binary, options.replay}, -1, {});
    int status = WaitFor(cc);
    program.reset(open(binary, O_RDONLY | O_CLOEXEC));
    unlink(binary);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !program) {
      std::fprintf(stderr, "ukcov fuzz: cannot compile %s\n", options.replay.c_str());
      return 2;
    }
    // Far above what the program's calls allocate: its fds are numbered as
    // under the fuzzer.
    spec.fds.push_back({program.get(), 1000});
    guest = {"/proc/self/fd/1000"};
  } else {
    program.reset(open(options.replay.c_str(), O_RDONLY | O_CLOEXEC));
    if (!program) {
      std::fprintf(stderr, "ukcov fuzz: %s: %s\n", options.replay.c_str(), std::strerror(errno));
      return 2;
    }
    // The program as C first, on stdout; what happens, on stderr.
    pid_t printer = Spawn({options.executor, "c", options.replay}, -1, {});
    int status = WaitFor(printer);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "ukcov fuzz: %s could not print the program\n", options.executor.c_str());
      return 2;
    }
    std::fflush(stdout);
    spec.fds.push_back({program.get(), 0});
    guest = {options.executor, "run", "-"};
  }
  spec.sentry = options.sentry;
  spec.sentry_options = {"--check-invariants"};
  spec.environment = SentrySanitizerEnvironment();
  spec.guest = guest;
  spec.stdout_fd = 2;
  std::string error;
  Result<Sandbox> sandbox = SpawnSandbox(spec, &error);
  if (!sandbox) {
    std::fprintf(stderr, "ukcov fuzz: the sandbox: %s\n", error.c_str());
    return 2;
  }
  // The fuzzer's own timeout decides a hang here too.
  double deadline = Now() + options.timeout_ms / 1000.0;
  bool hung = false;
  for (;;) {
    pollfd p{sandbox->report.get(), POLLIN, 0};
    int left = static_cast<int>((deadline - Now()) * 1000);
    if (left <= 0) {
      hung = true;
      kill(sandbox->pid, SIGKILL);
      break;
    }
    int ready = poll(&p, 1, left);
    if (ready > 0) break;
  }
  int status = WaitSandbox(*sandbox);
  if (hung) {
    std::fprintf(stderr, "ukcov fuzz: reproduced: the sentry did not finish within %d ms (a hang)\n",
                 options.timeout_ms);
    return 1;
  }
  if (WIFSIGNALED(status)) {
    std::fprintf(stderr, "ukcov fuzz: reproduced: the sentry died by signal %d (%s)\n", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    return 1;
  }
  if (WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "ukcov fuzz: reproduced: the sentry exited %d\n", WEXITSTATUS(status));
    return 1;
  }
  std::fprintf(stderr, "ukcov fuzz: not reproduced: the sentry served the program and exited 0\n");
  return 0;
}

}  // namespace

int Fuzz(const FuzzOptions& options_in) {
  FuzzOptions options = options_in;
  if (options.sentry.empty()) options.sentry = options.self;
  if (options.executor.empty()) options.executor = fs::path(options.self).parent_path() / "ukcov-fuzz-executor";
  if (access(options.executor.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "ukcov fuzz: the executor %s: %s (build it: make build)\n", options.executor.c_str(),
                 std::strerror(errno));
    return 2;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "ukcov fuzz: needs root: the sentry runs in pid and mount namespaces of its own, with the "
                         "host's filesystems read-only\n");
    return 2;
  }
  if (!options.replay.empty()) return Replay(options);

  if (options.blind && options.jobs > 1) {
    std::fprintf(stderr, "ukcov fuzz: --blind runs one instance (AFL's -n has no main and secondaries)\n");
    return 2;
  }
  std::string afl = FindOnPath("afl-fuzz");
  if (afl.empty()) {
    std::fprintf(stderr, "ukcov fuzz: afl-fuzz is not on PATH: install AFL++ (apt-get install afl++; make deps does)\n");
    return 2;
  }
  std::error_code ec;
  fs::create_directories(options.out + "/workers", ec);
  fs::create_directories(options.out + "/logs", ec);
  if (ec) {
    std::fprintf(stderr, "ukcov fuzz: %s: %s\n", options.out.c_str(), ec.message().c_str());
    return 2;
  }
  options.out = fs::absolute(options.out).lexically_normal().string();
  if (options.out.back() == '/') options.out.pop_back();
  std::string seeds = options.seeds;
  if (seeds.empty()) {
    seeds = options.out + "/seeds";
    fs::create_directories(seeds, ec);
    int status = WaitFor(Spawn({options.executor, "seeds", seeds}, -1, {}));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 2;
  }

  struct sigaction stop {};
  stop.sa_handler = OnStop;
  sigaction(SIGINT, &stop, nullptr);
  sigaction(SIGTERM, &stop, nullptr);

  std::vector<Instance> instances;
  for (int j = 0; j < options.jobs; j++) {
    Instance instance;
    // AFL's -n has no main or secondaries: its one instance is "default".
    instance.name = options.blind ? "default" : j == 0 ? "main" : "secondary" + std::to_string(j);
    std::string workdir = options.out + "/workers/" + instance.name;
    fs::create_directories(workdir, ec);
    std::vector<std::string> argv = {afl, "-i", seeds, "-o", options.out + "/afl"};
    if (!options.blind) argv.insert(argv.end(), {j == 0 ? "-M" : "-S", instance.name});
    argv.insert(argv.end(), {"-t", std::to_string(options.timeout_ms), "-m", "none"});
    if (options.blind) argv.push_back("-n");
    if (options.seed) argv.insert(argv.end(), {"-s", std::to_string(*options.seed + j)});
    if (options.seconds > 0) argv.insert(argv.end(), {"-V", std::to_string(options.seconds)});
    argv.insert(argv.end(), {"--", options.self, "fuzz-target", "--sentry", options.sentry, "--executor",
                             options.executor, "--workdir", workdir, "@@"});
    std::vector<std::string> env = {"AFL_SKIP_BIN_CHECK=1", "AFL_NO_UI=1", "AFL_SKIP_CPUFREQ=1",
                                    "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1", "AFL_AUTORESUME=1",
                                    "AFL_FORKSRV_INIT_TMOUT=60000", "AFL_NO_CRASH_README=1",
                                    // The program is the unit: AFL's byte-wise trimming and 8-run calibration
                                    // spend execs a program of a few calls does not need.
                                    "AFL_DISABLE_TRIM=1", "AFL_FAST_CAL=1"};
    if (options.blind) env.push_back("AFL_DUMB_FORKSRV=1");
    // Each instance on a core of its own while there are free ones (and
    // none, AFL_NO_AFFINITY, as the user asks).
    const bool bind = std::getenv("AFL_NO_AFFINITY") == nullptr;
    if (bind) env.push_back("AFL_TRY_AFFINITY=1");
    for (const std::string& e : AflSanitizerEnvironment()) env.push_back(e);
    std::string log_path = options.out + "/logs/" + instance.name + ".log";
    UniqueFd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    instance.pid = Spawn(argv, log.get(), env);
    if (bind && instance.pid > 0) AwaitCpuBinding(instance.pid, log_path);
    instances.push_back(instance);
  }
  std::fprintf(stderr, "ukcov fuzz: %d afl-fuzz instance%s (%s) over %s; logs in %s/logs\n", options.jobs,
               options.jobs == 1 ? "" : "s", options.blind ? "blind: -n" : "guided by kcov", options.out.c_str(),
               options.out.c_str());

  bool tty = isatty(2);
  double start = Now(), last_line = 0;
  uint64_t last_execs = 0;
  size_t running = instances.size();
  while (running > 0) {
    if (g_stop) {
      for (Instance& i : instances)
        if (i.pid > 0) kill(i.pid, SIGINT);
      g_stop = 0;
    }
    for (Instance& i : instances) {
      if (i.pid <= 0) continue;
      if (waitpid(i.pid, &i.status, WNOHANG) == i.pid) {
        i.pid = -1;
        running--;
      }
    }
    double now = Now();
    if (now - last_line >= (tty ? 1.0 : 10.0)) {
      Totals totals = Gather(options, instances);
      totals.per_second = last_line > 0 ? (totals.execs - last_execs) / (now - last_line) : 0;
      last_execs = totals.execs;
      last_line = now;
      std::string line = Line(now - start, totals);
      std::fprintf(stderr, tty ? "\r%s " : "%s\n", line.c_str());
    }
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  if (tty) std::fputc('\n', stderr);

  Totals totals = Gather(options, instances);
  totals.per_second = totals.execs / (Now() - start);
  {
    std::ofstream out(options.out + "/coverage.pcs");
    for (uint64_t pc : totals.blocks) out << "0x" << std::hex << pc << "\n";
  }
  int failed = 0;
  for (const Instance& i : instances) {
    bool ok = WIFEXITED(i.status) && WEXITSTATUS(i.status) == 0;
    if (!ok) {
      failed++;
      std::fprintf(stderr, "ukcov fuzz: afl-fuzz %s ended with status 0x%x; the end of %s/logs/%s.log:\n",
                   i.name.c_str(), i.status, options.out.c_str(), i.name.c_str());
      std::ifstream log(options.out + "/logs/" + i.name + ".log");
      std::vector<std::string> lines;
      std::string l;
      while (std::getline(log, l)) lines.push_back(l);
      for (size_t k = lines.size() > 15 ? lines.size() - 15 : 0; k < lines.size(); k++)
        std::fprintf(stderr, "  %s\n", lines[k].c_str());
    }
  }
  std::fprintf(stderr, "%s\n", Line(Now() - start, totals).c_str());
  std::fprintf(stderr, "ukcov fuzz: the sentry's blocks covered: %s/coverage.pcs (ukcov cover %s/coverage.pcs)\n",
               options.out.c_str(), options.out.c_str());
  std::vector<std::string> crashes = Crashes(options, instances);
  for (const std::string& dir : crashes)
    std::fprintf(stderr, "ukcov fuzz: crash: %s (report, input, repro.c; ukcov fuzz --replay %s/input)\n",
                 dir.c_str(), dir.c_str());
  if (failed > 0) return 2;
  return crashes.empty() ? 0 : 1;
}

}  // namespace ukcov::tools
