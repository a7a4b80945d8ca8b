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

int Symbolize(const std::string& binary, bool area, const std::vector<std::string>& inputs) {
  auto symbolizer = ukcov::tools::Symbolizer::Open(binary);
  if (!symbolizer) {
    std::cerr << "ukcov symbolize: " << binary << ": " << std::strerror(symbolizer.error()) << "\n";
    return 1;
  }
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
  symbolize->add_option("--binary", binary, "ELF file the PCs come from (default: this ukcov, the sentry)")
      ->check(CLI::ExistingFile);
  symbolize->add_flag("--area", area, "Inputs are raw kcov area dumps (count word, then PCs)");
  symbolize->add_option("inputs", inputs, "Files of PCs, hex one per line ('-' or none: stdin)");

  CLI11_PARSE(app, argc, argv);
  if (*version) {
    std::cout << "ukcov " << UKCOV_VERSION << "\n";
    return 0;
  }
  if (*symbolize) return Symbolize(binary, area, inputs);
  if (*help || app.get_subcommands().empty()) {
    // app.help() would describe the chosen subcommand ("help" itself).
    std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
    return *help ? 0 : 2;
  }
  return 0;
}
