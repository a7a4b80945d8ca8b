// The ukcov command line.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sentry/supervisor.h"
#include "tools/cover_command.h"
#include "tools/fuzz_command.h"
#include "tools/fuzz_target.h"
#include "tools/pc_input.h"
#include "tools/progress.h"
#include "tools/symbolizer.h"

namespace {

using ukcov::tools::ProgressOnTerminal;

std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  buf[n] = '\0';
  return buf;
}

// A gVisor synthetic PC (UKCOV_PC_GVISOR) as the canonical PC of the same
// block in this binary: only the binary that numbered the blocks can say
// which block a number is.
uint64_t FromGvisor(uint64_t pc) {
  static ukcov_engine* canonical = [] {
    ukcov_engine* e = nullptr;
    ukcov_engine_create(nullptr, &e);
    return e;
  }();
  uintptr_t address;
  if (canonical == nullptr || ukcov_gvisor_pc_address(pc, &address) != 0) return pc;
  return ukcov_engine_encode_pc(canonical, address + 1);  // kcov PCs follow the return-address convention
}

int Symbolize(const std::string& binary, bool area, const std::string& relative_to,
              const std::vector<std::string>& inputs, bool gvisor) {
  if (gvisor && binary != SelfPath()) {
    std::cerr << "ukcov symbolize: --gvisor numbers are this ukcov's own blocks: --binary cannot be another file\n";
    return 1;
  }
  if (gvisor && !(ukcov_registered_features() & UKCOV_FEATURE_COUNTERS)) {
    std::cerr << "ukcov symbolize: --gvisor needs the counters backend: build with -DUKCOV_COVERAGE=counters\n";
    return 1;
  }
  auto symbolizer = ukcov::tools::Symbolizer::Open(binary);
  if (!symbolizer) {
    std::cerr << "ukcov symbolize: " << binary << ": " << std::strerror(symbolizer.error()) << "\n";
    return 1;
  }
  if (!relative_to.empty()) symbolizer->set_strip_prefix(relative_to.back() == '/' ? relative_to : relative_to + "/");
  std::vector<std::string> names = inputs.empty() ? std::vector<std::string>{"-"} : inputs;
  for (const std::string& name : names) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (name != "-") {
      struct stat st;
      if (stat(name.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        std::cerr << "ukcov symbolize: " << name << ": " << std::strerror(EISDIR) << "\n";
        return 1;
      }
      file.open(name, std::ios::binary);
      if (!file) {
        std::cerr << "ukcov symbolize: " << name << ": " << std::strerror(errno) << "\n";
        return 1;
      }
      in = &file;
    }
    auto pcs = area ? ukcov::tools::ReadArea(*in) : ukcov::tools::ReadPcList(*in);
    if (in->bad()) {
      std::cerr << "ukcov symbolize: " << name << ": read error\n";
      return 1;
    }
    if (!pcs) {
      std::cerr << "ukcov symbolize: " << name << ": " << pcs.error_message() << "\n";
      return 1;
    }
    std::vector<uint64_t> canonical = pcs.pcs;
    if (gvisor)
      for (uint64_t& pc : canonical) pc = FromGvisor(pc);
    auto symbolized = symbolizer->SymbolizeAll(canonical, ProgressOnTerminal("symbolizing"));
    if (!symbolized) {
      std::cerr << "ukcov symbolize: " << ukcov::tools::Binutil("addr2line") << " on " << binary << ": "
                << std::strerror(symbolized.error()) << "\n";
      return 1;
    }
    for (size_t i = 0; i < symbolized->size(); i++) {
      ukcov::tools::Symbolized& s = (*symbolized)[i];
      s.pc = pcs.pcs[i];  // shown as read
      std::cout << ukcov::tools::Format(s) << "\n";
    }
  }
  return 0;
}

}  // namespace

static int Main(int argc, char** argv) {
  CLI::App app{"ukcov: kcov for user-space kernels"};
  app.require_subcommand(0, 1);
  app.fallthrough();

  auto* version = app.add_subcommand("version", "Print the version");
  auto* help = app.add_subcommand("help", "Print this help, or a command's (ukcov help run)");
  std::string help_topic;
  help->add_option("command", help_topic, "The command to describe");

  auto* symbolize = app.add_subcommand("symbolize", "Print function and file:line of kcov PCs");
  std::string binary = SelfPath();
  bool area = false;
  std::vector<std::string> inputs;
  char cwd[4096];
  std::string relative_to = getcwd(cwd, sizeof cwd) != nullptr ? cwd : "";
  symbolize->add_option("--relative-to", relative_to, "Print source paths under DIR relative to it (default: .)");
  symbolize->add_option("--binary", binary, "ELF file the PCs come from (default: this ukcov, the sentry)")
      ->check(CLI::ExistingFile);
  symbolize->add_flag("--area", area, "Inputs are raw kcov area dumps (count word, then PCs)");
  bool gvisor = false;
  symbolize->add_flag("--gvisor", gvisor,
                      "PCs are gVisor-style synthetic numbers from `ukcov run --gvisor-pcs` (counters build)");
  symbolize->add_option("inputs", inputs, "Files of PCs, hex one per line ('-' or none: stdin)");

  auto* cover = app.add_subcommand("cover", "Report what coverage covered: by directory, file and function, or as lcov");
  ukcov::tools::CoverOptions cover_options;
  cover_options.self = SelfPath();
  cover_options.source_root = UKCOV_SOURCE_DIR;
  cover->add_option("inputs", cover_options.inputs,
                    "Coverage: `ukcov run --coverage` files, PC lists (hex, one per line) or kcov area dumps; "
                    "their union is reported")
      ->required();
  cover->add_option("--binary", cover_options.binary,
                    "ELF file the PCs come from (default: the one the coverage file names, else this ukcov)")
      ->check(CLI::ExistingFile);
  cover->add_option("--source-root", cover_options.source_root,
                    "The project's source tree: blocks count for their innermost line in it (default: the tree "
                    "this ukcov was built from)")
      ->capture_default_str();
  cover->add_option("--lcov", cover_options.lcov, "Also write an lcov tracefile (genhtml FILE -o DIR: HTML); '-': stdout");
  cover->add_option("--base", cover_options.base,
                    "The difference: report only what the inputs covered that these did not");
  cover->add_option("--by", cover_options.by, "Rows of the summary: directory, file or function")
      ->check(CLI::IsMember({"directory", "file", "function"}))
      ->capture_default_str();
  cover->add_option("--sort", cover_options.sort, "Order of the rows: name, percent (highest first), missed (most first)")
      ->check(CLI::IsMember({"name", "percent", "missed"}))
      ->capture_default_str();
  cover->add_option("--filter", cover_options.filters,
                    "Only source paths under this prefix or matching this glob (repeatable), e.g. src/sentry/fs/");
  cover->add_flag("--quiet", cover_options.quiet, "No summary (with --lcov)");

  auto* run = app.add_subcommand("run", "Run PROG under the sentry, with /sys/kernel/debug/kcov");
  ukcov::sentry::RunOptions run_options;
  run->add_option("--workers", run_options.workers, "Threads serving syscalls (default: one per two CPUs)")
      ->check(CLI::Range(1, 256));
  run->add_option("--tmpfs", run_options.tmpfs,
                  "Mount an emulated tmpfs at PATH (an existing directory) in the guest's view; "
                  "OPTIONS: size=BYTES[k|m|g|%],nr_inodes=N,mode=OCTAL,uid=N,gid=N (size and nr_inodes unset: half of "
                  "RAM each, as Linux's; 0: no limit)")
      ->type_name("PATH[:OPTIONS]")
      ->allow_extra_args(false);
  run->add_flag("--gvisor-pcs", run_options.gvisor_pcs,
                "Counters build: write gVisor's synthetic PCs (~(block | function << 8 | package << 20)) "
                "instead of canonical addresses; `ukcov symbolize --gvisor` reads them");
  run->add_option("--without", run_options.without,
                  "Do without a host kernel feature, as on a kernel that lacks it, to test the fallback: "
                  "pidfd-thread (Linux 6.9), sync-wake-up (6.6)")
      ->type_name("FEATURE")
      ->allow_extra_args(false);
  run->add_option("--intercept", run_options.intercept,
                  "Which calls the sentry traps (docs/sentry.md, \"Interception modes\"): all (every call that "
                  "might be the sentry's), served (only what it serves; root, no --tmpfs), auto (served where "
                  "possible)")
      ->type_name("MODE")
      ->capture_default_str();
  run->add_flag("--stats", run_options.stats,
                "At the end, say on stderr how many of the guest's calls were trapped and how many FUSE "
                "requests the served debugfs answered");
  run->add_option("--coverage", run_options.coverage,
                  "Write the whole run's coverage of the sentry to FILE at the end (canonical PCs; `ukcov cover "
                  "FILE` reports it). %p in FILE: the run's pid (one file per run of a test suite)")
      ->type_name("FILE");
  run->add_flag("--check-invariants", run_options.check_invariants,
               "Fuzzing: a guest's ioctl UKCOV_FUZZ_CHECK_INVARIANTS (src/fuzz/protocol.h) checks the engine's "
               "and the mounts' invariants; the sentry aborts if one is broken");
  run->add_option("command", run_options.argv, "-- PROG [ARGS...]")->required();
  run->footer("The exit status is PROG's, or 128+N if signal N killed it.");

  auto* fuzz = app.add_subcommand("fuzz", "Fuzz the sentry with AFL++, guided by its own kcov coverage (root)");
  ukcov::tools::FuzzOptions fuzz_options;
  fuzz_options.self = SelfPath();
  fuzz->add_option("-o,--out", fuzz_options.out, "Output directory: AFL's queue, crashes, coverage, logs")
      ->capture_default_str();
  fuzz->add_option("-j,--jobs", fuzz_options.jobs, "afl-fuzz instances: one main, the rest secondaries")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  fuzz->add_option("--time", fuzz_options.seconds, "Stop after SECONDS (default: at Ctrl-C)")->check(CLI::Range(1, 1 << 30));
  fuzz->add_flag("--blind", fuzz_options.blind, "No coverage feedback (AFL's -n): the baseline kcov must beat");
  fuzz->add_option("--seed", fuzz_options.seed, "AFL's random seed (instance i gets SEED+i)");
  fuzz->add_option("--timeout", fuzz_options.timeout_ms, "A program's time limit in ms: past it, a hang")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  fuzz->add_option("--seeds", fuzz_options.seeds, "Directory of initial inputs (default: the built-in programs)")
      ->check(CLI::ExistingDirectory);
  fuzz->add_option("--sentry", fuzz_options.sentry,
                   "The ukcov that serves the programs, e.g. an ASan build's (default: this one)")
      ->check(CLI::ExistingFile);
  fuzz->add_option("--executor", fuzz_options.executor, "The fuzz executor (default: beside this ukcov)")
      ->check(CLI::ExistingFile);
  fuzz->add_option("--replay", fuzz_options.replay,
                   "Run one input (print it as C on stdout) or a .c reproducer in the fuzz sandbox; exit 1 if the "
                   "sentry fails on it")
      ->check(CLI::ExistingFile);

  // AFL's target (fuzz_target.h); not for people.
  auto* fuzz_target = app.add_subcommand("fuzz-target", "")->group("");
  ukcov::tools::FuzzTargetOptions target_options;
  fuzz_target->add_option("--sentry", target_options.sentry)->required();
  fuzz_target->add_option("--executor", target_options.executor)->required();
  fuzz_target->add_option("--workdir", target_options.workdir)->required();
  fuzz_target->add_option("input", target_options.input)->required();
  fuzz_target->add_option("more", target_options.more_inputs);
  fuzz_target->add_option("--repeat", target_options.repeat)->check(CLI::Range(1, 1000000));
  fuzz_target->add_flag("--spread-pids", target_options.spread_pids);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0; a usage error exits 2,
    // as for a missing subcommand.
    int r = app.exit(e);
    // `ukcov run ls -la`: the program's options were read as run's.
    if (r != 0 && *run && dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr)
      std::cerr << "ukcov run: put -- before a program that takes options: ukcov run [OPTIONS] -- PROG [ARGS...]\n";
    return r == 0 ? 0 : 2;
  }
  if (*run) return ukcov::sentry::Run(run_options);
  if (*version) {
    std::cout << "ukcov " << UKCOV_VERSION << "\n";
    return 0;
  }
  if (*symbolize) return Symbolize(binary, area, relative_to, inputs, gvisor);
  if (*cover) return ukcov::tools::Cover(cover_options);
  if (*fuzz) return ukcov::tools::Fuzz(fuzz_options);
  if (*fuzz_target) return ukcov::tools::RunFuzzTarget(target_options);
  if (*help && !help_topic.empty()) {
    CLI::App* topic = nullptr;
    for (CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == help_topic) topic = sub;
    if (topic == nullptr) {
      std::cerr << "ukcov help: no command '" << help_topic << "' (run, cover, fuzz, symbolize, version, help)\n";
      return 2;
    }
    std::cout << topic->help();
    return 0;
  }
  if (*help || app.get_subcommands().empty()) {
    // app.help() would describe the chosen subcommand ("help" itself).
    std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
    return *help ? 0 : 2;
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    // Nothing below should throw; if it does, one line and a failure, not
    // an abort.
    std::cerr << "ukcov: " << e.what() << "\n";
    return 1;
  }
}
