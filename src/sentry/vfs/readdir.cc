#include "sentry/vfs/readdir.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

namespace ukcov::sentry {
namespace {

// The offset of a directory read to its end: no cookie is above it.
constexpr int64_t kEndOfDirectory = INT32_MAX;

}  // namespace

Answer ReadDirectory(Syscall& sc, Inode& dir, int description, uint64_t buffer, uint64_t count, bool legacy) {
  if (!dir.is_dir()) return Answer::Error(ENOTDIR);
  // The entries are read under the directory's lock, and written to the
  // guest after it.
  std::unique_lock lock(dir.mu);
  if (dir.nlink == 0) return Answer::Error(ENOENT);  // iterate_dir: IS_DEADDIR
  int64_t pos = lseek(description, 0, SEEK_CUR);
  std::vector<char> out;
  auto emit = [&](uint64_t ino, int64_t next, unsigned char type, const std::string& name) {
    // linux_dirent64: ino, off, reclen, type, name; linux_dirent: ino, off,
    // reclen, name, then a pad byte and the type in the record's last byte.
    size_t header = legacy ? 18 : 19;
    size_t reclen = (header + name.size() + 1 + (legacy ? 1 : 0) + 7) & ~size_t{7};
    if (out.size() + reclen > count) return false;
    size_t at = out.size();
    out.resize(at + reclen, 0);
    uint64_t off = static_cast<uint64_t>(next);
    std::memcpy(&out[at], &ino, 8);
    std::memcpy(&out[at + 8], &off, 8);
    uint16_t r = static_cast<uint16_t>(reclen);
    std::memcpy(&out[at + 16], &r, 2);
    if (legacy) {
      std::memcpy(&out[at + 18], name.c_str(), name.size() + 1);
      out[at + reclen - 1] = static_cast<char>(type);
    } else {
      out[at + 18] = static_cast<char>(type);
      std::memcpy(&out[at + 19], name.c_str(), name.size() + 1);
    }
    return true;
  };
  auto type_of = [](const Inode& i) -> unsigned char {
    switch (i.type) {
      case S_IFDIR: return DT_DIR;
      case S_IFLNK: return DT_LNK;
      case S_IFIFO: return DT_FIFO;
      case S_IFSOCK: return DT_SOCK;
      case S_IFCHR: return DT_CHR;
      case S_IFBLK: return DT_BLK;
      default: return DT_REG;
    }
  };
  bool full = false;
  if (pos == 0 && dir.nlink > 0) {
    if (emit(dir.ino, 1, DT_DIR, ".")) pos = 1; else full = true;
  }
  // Past "..", the offset is the first cookie not to return: entries made
  // from then on wait for a rewind, as Linux's tmpfs does.
  if (!full && pos == 1 && dir.nlink > 0) {
    InodeRef parent = dir.parent.lock();
    const int64_t cap = static_cast<int64_t>(dir.next_cookie);
    if (emit(parent ? parent->ino : dir.ino, cap, DT_DIR, "..")) pos = cap; else full = true;
  }
  if (pos == 2) pos = static_cast<int64_t>(dir.next_cookie);
  // Newest first, as Linux's tmpfs lists (its dentries' child list); an
  // offset past ".." is the cookie of the last entry returned, and the walk
  // goes on with older ones: entries made since are not returned, removed
  // ones are skipped, the rest come once.
  if (!full && pos >= 2 && pos < kEndOfDirectory && dir.nlink > 0) {
    auto it = dir.entries.lower_bound(static_cast<uint64_t>(pos));
    while (it != dir.entries.begin()) {
      --it;
      if (!emit(it->second.inode->ino, static_cast<int64_t>(it->first), type_of(*it->second.inode), it->second.name)) {
        full = true;
        break;
      }
      pos = static_cast<int64_t>(it->first);
    }
    if (!full) pos = kEndOfDirectory;
  }
  if (out.empty() && full) return Answer::Error(EINVAL);  // not even one entry fits
  lock.unlock();
  if (!out.empty() && !sc.memory.Write(buffer, out.data(), out.size())) return Answer::Error(EFAULT);
  lseek(description, pos, SEEK_SET);
  lock.lock();
  TouchAccessed(dir);
  return Answer::Return(static_cast<int64_t>(out.size()));
}

Answer SeekDirectory(int description, int64_t offset, unsigned whence) {
  const int64_t cur = lseek(description, 0, SEEK_CUR);
  int64_t target;
  if (whence == SEEK_SET)
    target = offset;
  else if (whence == SEEK_CUR) {
    // Linux adds in loff_t and wraps; a sum past LLONG_MAX comes out negative: EINVAL.
    if (__builtin_add_overflow(cur, offset, &target)) return Answer::Error(EINVAL);
  } else
    return Answer::Error(EINVAL);
  if (target < 0) return Answer::Error(EINVAL);
  lseek(description, target, SEEK_SET);
  return Answer::Return(target);
}

}  // namespace ukcov::sentry
