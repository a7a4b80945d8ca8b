#include "tools/elf_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ukcov/kcov.h"

namespace ukcov::tools {

Result<ElfFile> ElfFile::Open(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Errno{errno};
  elf_version(EV_CURRENT);
  Elf* elf = elf_begin(fd.get(), ELF_C_READ, nullptr);
  if (elf == nullptr || elf_kind(elf) != ELF_K_ELF) {
    if (elf != nullptr) elf_end(elf);
    return Errno{ENOEXEC};
  }
  return ElfFile(std::move(fd), elf);
}

ElfFile::ElfFile(UniqueFd fd, Elf* elf) : fd_(std::move(fd)), elf_(elf) {
  size_t phnum = 0;
  uint64_t lowest = UINT64_MAX;
  if (elf_getphdrnum(elf_, &phnum) == 0) {
    for (size_t i = 0; i < phnum; i++) {
      GElf_Phdr ph;
      if (gelf_getphdr(elf_, static_cast<int>(i), &ph) == nullptr || ph.p_type != PT_LOAD) continue;
      lowest = std::min<uint64_t>(lowest, ph.p_vaddr);
      if (ph.p_flags & PF_X) text_.push_back({ph.p_vaddr, ph.p_vaddr + ph.p_memsz});
    }
  }
  canonical_base_ = lowest != UINT64_MAX && lowest >= UKCOV_CANONICAL_PC_BASE ? 0 : UKCOV_CANONICAL_PC_BASE;
}

ElfFile::ElfFile(ElfFile&& other) noexcept
    : fd_(std::move(other.fd_)),
      elf_(other.elf_),
      text_(std::move(other.text_)),
      canonical_base_(other.canonical_base_) {
  other.elf_ = nullptr;
}

ElfFile::~ElfFile() {
  if (elf_ != nullptr) elf_end(elf_);
}

Elf_Scn* ElfFile::Section(const char* name) const {
  size_t shstrndx;
  if (elf_getshdrstrndx(elf_, &shstrndx) != 0) return nullptr;
  for (Elf_Scn* scn = elf_nextscn(elf_, nullptr); scn != nullptr; scn = elf_nextscn(elf_, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr) continue;
    const char* n = elf_strptr(elf_, shstrndx, sh.sh_name);
    if (n != nullptr && std::strcmp(n, name) == 0) return scn;
  }
  return nullptr;
}

std::string ElfFile::BuildId() const {
  for (Elf_Scn* scn = elf_nextscn(elf_, nullptr); scn != nullptr; scn = elf_nextscn(elf_, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != SHT_NOTE) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    size_t offset = 0, name_off, desc_off;
    GElf_Nhdr nh;
    while ((offset = gelf_getnote(data, offset, &nh, &name_off, &desc_off)) > 0) {
      if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
          std::memcmp(static_cast<const char*>(data->d_buf) + name_off, "GNU", 4) != 0)
        continue;
      std::string hex;
      const auto* d = static_cast<const unsigned char*>(data->d_buf) + desc_off;
      for (size_t i = 0; i < nh.n_descsz; i++) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", d[i]);
        hex += two;
      }
      return hex;
    }
  }
  return "";
}

}  // namespace ukcov::tools
