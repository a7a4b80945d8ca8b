// The ukcov command line.
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
#include "tools/pc_input.h"
#include "tools/symbolizer.h"

namespace {

std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  buf[n] = '\0';
  return buf;
}

int Symbolize(const std::string& binary, bool area, const std::string& relative_to,
              const std::vector<std::string>& inputs) {
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
      file.open(name, std::ios::binary);
      if (!file) {
        std::cerr << "ukcov symbolize: " << name << ": " << std::strerror(errno) << "\n";
        return 1;
      }
      in = &file;
    }
    auto pcs = area ? ukcov::tools::ReadArea(*in) : ukcov::tools::ReadPcList(*in);
    if (!pcs) {
      std::cerr << "ukcov symbolize: " << name << ": " << pcs.error_message() << "\n";
      return 1;
    }
    for (uint64_t pc : pcs.pcs) std::cout << ukcov::tools::Format(symbolizer->Symbolize(pc)) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ukcov: kcov for user-space kernels"};
  app.require_subcommand(0, 1);
  app.fallthrough();

  auto* version = app.add_subcommand("version", "Print the version");
  auto* help = app.add_subcommand("help", "Print this help");

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
  symbolize->add_option("inputs", inputs, "Files of PCs, hex one per line ('-' or none: stdin)");

  auto* run = app.add_subcommand("run", "Run PROG under the sentry, with /sys/kernel/debug/kcov");
  ukcov::sentry::RunOptions run_options;
  run->add_option("--workers", run_options.workers, "Threads serving syscalls (default: one per two CPUs)")
      ->check(CLI::Range(1, 256));
  run->add_option("--tmpfs", run_options.tmpfs,
                  "Mount an emulated tmpfs at PATH (an existing directory) in the guest's view; "
                  "OPTIONS: size=BYTES[k|m|g],nr_inodes=N,mode=OCTAL,uid=N,gid=N")
      ->type_name("PATH[:OPTIONS]")
      ->allow_extra_args(false);
  run->add_option("command", run_options.argv, "-- PROG [ARGS...]")->required();
  run->footer("The exit status is PROG's, or 128+N if signal N killed it.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0; a usage error exits 2,
    // as for a missing subcommand.
    int r = app.exit(e);
    return r == 0 ? 0 : 2;
  }
  if (*run) return ukcov::sentry::Run(run_options);
  if (*version) {
    std::cout << "ukcov " << UKCOV_VERSION << "\n";
    return 0;
  }
  if (*symbolize) return Symbolize(binary, area, relative_to, inputs);
  if (*help || app.get_subcommands().empty()) {
    // app.help() would describe the chosen subcommand ("help" itself).
    std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
    return *help ? 0 : 2;
  }
  return 0;
}
