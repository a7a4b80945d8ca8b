#include "sentry/coverage_file.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace ukcov::sentry {
namespace {

int FindBuildId(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const auto* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto* nh = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const char* name = p + sizeof(ElfW(Nhdr));
      const char* desc = name + ((nh->n_namesz + 3) & ~3u);
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        for (uint32_t k = 0; k < nh->n_descsz; k++) {
          char two[3];
          std::snprintf(two, sizeof two, "%02x", static_cast<unsigned char>(desc[k]));
          *out += two;
        }
        return 1;
      }
      p = desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
  return 1;  // the main program is reported first: only it
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

bool WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string OwnBuildId() {
  std::string id;
  dl_iterate_phdr(FindBuildId, &id);
  return id;
}

Result<CoverageFile> CoverageFile::Create(const std::string& pattern) {
  // "%p": this run's pid, as in LLVM_PROFILE_FILE, so that many runs (a
  // test suite's) each write their own file.
  std::string path;
  for (size_t i = 0; i < pattern.size(); i++) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'p') {
      path += std::to_string(getpid());
      i++;
    } else {
      path += pattern[i];
    }
  }
  std::string temp = path + ".tmp." + std::to_string(getpid());
  UniqueFd fd(open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return Errno{errno};
  return CoverageFile(path, std::move(temp), std::move(fd));
}

CoverageFile::CoverageFile(CoverageFile&& other) noexcept
    : path_(std::move(other.path_)), temp_(std::move(other.temp_)), fd_(std::move(other.fd_)) {
  other.temp_.clear();
}

CoverageFile::~CoverageFile() {
  if (!temp_.empty()) unlink(temp_.c_str());
}

Result<void> CoverageFile::Commit(const ukcov::Engine& engine, const std::vector<std::string>& argv) {
  std::vector<uint64_t> pcs;
  long n = ukcov_engine_run_coverage(
      engine.get(), [](void* ctx, uint64_t pc) { static_cast<std::vector<uint64_t>*>(ctx)->push_back(pc); }, &pcs);
  if (n < 0) return Errno{static_cast<int>(-n)};
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  std::string text = "# ukcov coverage: the sentry's blocks that ran while serving `" + command + "`\n";
  text += "# binary: " + SelfPath() + "\n";
  text += "# build-id: " + OwnBuildId() + "\n";
  text += std::string("# backend: ") +
          ((ukcov_registered_features() & UKCOV_FEATURE_COUNTERS) ? "counters" : "trace") + "\n";
  text += "# blocks: " + std::to_string(pcs.size()) + "\n";
  for (uint64_t pc : pcs) {
    char line[24];
    std::snprintf(line, sizeof line, "0x%016" PRIx64 "\n", pc);
    text += line;
  }
  if (!WriteAll(fd_.get(), text) || fsync(fd_.get()) != 0) return Errno{errno ? errno : EIO};
  fd_.reset();
  if (rename(temp_.c_str(), path_.c_str()) != 0) return Errno{errno};
  temp_.clear();
  return {};
}

}  // namespace ukcov::sentry
