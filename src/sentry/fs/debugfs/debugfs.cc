#include "sentry/fs/debugfs/debugfs.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "sentry/proc_files.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/vfs/readdir.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry::debugfs {
namespace {

constexpr long kDebugfsMagic = 0x64626720;  // DEBUGFS_MAGIC

}  // namespace

Filesystem::Filesystem(dev_t dev, KcovDevice& kcov) : sentry::Filesystem(dev), kcov_(kcov) {
  // debugfs's mount defaults: the root is 0700 root's (DEBUGFS_DEFAULT_MODE).
  root_ = NewInode(S_IFDIR | 0700);
  root_->nlink = 2;
  InodeRef kcov_inode = NewInode(S_IFREG | 0600);
  kcov_inode->nlink = 1;
  kcov_inode->parent = root_;
  AddEntry(root_, "kcov", kcov_inode);
  AddToken(root_, false);
  AddToken(root_, true);
  AddToken(kcov_inode, true);
}

InodeRef Filesystem::NewInode(mode_t mode) {
  auto inode = std::make_shared<Inode>(this);
  inode->ino = next_ino_++;
  inode->mode = mode;
  inode->type = mode & S_IFMT;
  inode->atime = inode->mtime = inode->ctime = inode->btime = CurrentTime();
  return inode;
}

void Filesystem::AddToken(const InodeRef& inode, bool path_only) {
  UniqueFd memfd(memfd_create(path_only ? "ukcov-debugfs-path" : "ukcov-debugfs", MFD_CLOEXEC));
  struct stat st;
  if (!memfd || fstat(memfd.get(), &st) != 0) return;  // opening it fails with ENOMEM
  (path_only ? path_token_ : open_token_)[inode->ino] = st.st_ino;
  tokens_.Set(st.st_ino, Token{inode, path_only, std::move(memfd)});
}

void Filesystem::Statfs(struct statfs* out) {
  std::memset(out, 0, sizeof *out);
  out->f_type = kDebugfsMagic;
  out->f_bsize = out->f_frsize = 4096;
  out->f_namelen = NAME_MAX;
  out->f_flags = kStValid | ST_RELATIME;  // debugfs's default mount
}

Result<void> Filesystem::SetSize(Inode& inode, uint64_t size) {
  // simple_setattr: the size changes, nothing else (a device's size means
  // nothing to its driver).
  inode.size = size;
  TouchModified(inode);
  return {};
}

Answer Filesystem::Open(Kernel& kernel, Syscall& sc, const InodeRef& inode, int flags, const Credentials&) {
  const bool path_only = flags & O_PATH;
  // do_dentry_open: no debugfs file can do O_DIRECT (no FMODE_CAN_ODIRECT).
  if (!path_only && (flags & O_DIRECT)) return Answer::Error(EINVAL);
  if (!path_only && inode->is_reg()) {  // kcov: the device's open
    Result<UniqueFd> file = kcov_.Open(sc.task, flags, inode);
    if (!file) return Answer::Error(file.error());
    (void)kernel;
    return Answer::InstallFd(std::move(file.value()), flags & O_CLOEXEC);
  }
  auto& by_inode = path_only ? path_token_ : open_token_;
  auto it = by_inode.find(inode->ino);
  Token* token = it == by_inode.end() ? nullptr : tokens_.Find(it->second);
  if (token == nullptr) return Answer::Error(ENOMEM);
  Result<UniqueFd> file = Reopen(token->memfd.get(), O_RDONLY | (flags & O_NONBLOCK));
  if (!file) return Answer::Error(file.error());
  opened_.store(true, std::memory_order_relaxed);
  return Answer::InstallFd(std::move(file.value()), flags & O_CLOEXEC);
}

InodeRef Filesystem::FindByHostIno(ino_t host_ino, bool* path_only) {
  Token* token = tokens_.Find(host_ino);
  if (token == nullptr) return nullptr;
  *path_only = token->path_only;
  return token->inode;
}

std::shared_ptr<sentry::File> Filesystem::FileOf(Mount*, const InodeRef& inode, UniqueFd description, bool path_only) {
  return std::make_shared<File>(inode, std::move(description), path_only);
}

Answer File::ReadWrite(Kernel&, Syscall&, const IoArgs& io) {
  // generic_read_dir; a directory is never open for writing.
  return Answer::Error(io.reading ? EISDIR : EBADF);
}

Answer File::Seek(Kernel&, Syscall&, int64_t offset, unsigned whence) {
  return SeekDirectory(description_.get(), offset, whence);
}

Answer File::Fsync(Kernel&, Syscall&) { return Answer::Return(0); }

Answer File::Getdents(Kernel&, Syscall& sc, uint64_t buffer, uint64_t count, bool legacy) {
  return ReadDirectory(sc, *inode_, description_.get(), buffer, count, legacy);
}

Answer File::Fcntl(Kernel&, Syscall&, unsigned cmd, uint64_t) {
  if (path_only_) {
    return Answer::Return(O_PATH);  // what Linux keeps in f_flags for one
  }
  if (cmd == F_GETFL) return Answer::Return((fcntl(description_.get(), F_GETFL) & ~O_ACCMODE) | O_RDONLY | O_DIRECTORY);
  if (cmd == F_ADD_SEALS || cmd == F_GET_SEALS) return Answer::Error(EINVAL);
  return Answer::Continue();
}

}  // namespace ukcov::sentry::debugfs
