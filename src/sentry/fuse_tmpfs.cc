// The request table of a served tmpfs (interception mode "served" with
// --tmpfs; fs/tmpfs/served.h): libfuse's decoded requests passed to
// tmpfs::Served in the calling task's context, and the answers encoded.
// Plumbing: not instrumented (tmpfs::Served is).
#include <linux/fs.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "sentry/fs/tmpfs/served.h"
#include "sentry/fuse_request.h"
#include "sentry/kernel.h"

namespace ukcov::sentry {
namespace {

// Every change to the tree and to the attributes comes through this
// connection, and the host invalidates what it caches of an inode whenever
// a request it makes may change it (a write's size and times, a read's or
// a readdir's atime, the directory and the victim of an unlink...): its
// dentries and attributes stay true and are kept. (With the attributes
// uncached, every permission check of every path component would ask.)
// What changes that the host cannot know of is invalidated by a notice
// (chattr's ctime).
constexpr double kEntryTimeout = 86400.0;
constexpr double kAttrTimeout = 86400.0;

tmpfs::Served& Fs(fuse_req_t req) { return Server(req).context<tmpfs::Served>(); }

// FUSE_TMPFILE (O_TMPFILE) comes as a create of this name, which no create
// can have (FuseServer turns the one into the other for libfuse, which
// predates it; the host names the unnamed dentry "/", vfs_tmpfile).
constexpr const char* kTmpfileName = "/";

// The calling task's credentials; null when the request is not a guest
// task's (the sentry's own).
std::shared_ptr<const Credentials> CredsOf(fuse_req_t req, TaskState* task) {
  if (task == nullptr) return nullptr;
  return Server(req).kernel().CredentialsOf(*task);
}

void ReplyErr(fuse_req_t req, int error) { fuse_reply_err(req, error); }

void ReplyEntry(fuse_req_t req, const Result<struct stat>& st) {
  if (!st) return ReplyErr(req, st.error());
  fuse_entry_param e{};
  e.ino = st->st_ino;
  e.attr = st.value();
  e.attr_timeout = kAttrTimeout;
  e.entry_timeout = kEntryTimeout;
  fuse_reply_entry(req, &e);
}

void ReplyAttr(fuse_req_t req, const Result<struct stat>& st) {
  if (!st) return ReplyErr(req, st.error());
  fuse_reply_attr(req, &st.value(), kAttrTimeout);
}

void Init(void*, fuse_conn_info* conn) {
  // Plain readdir (a listing needs no attributes); chattr on directories.
  // O_TRUNC as the VFS's own setattr after the open (atomic_o_trunc would
  // truncate in the open, before the VFS's ETXTBSY check).
  conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_WRITEBACK_CACHE |
                  FUSE_CAP_ATOMIC_O_TRUNC);
  if (conn->capable & FUSE_CAP_IOCTL_DIR) conn->want |= FUSE_CAP_IOCTL_DIR;
}

void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  AsCaller(req, false, [req, parent, name = std::string(name)](TaskState*) {
    ReplyEntry(req, Fs(req).Lookup(parent, name));
  });
}

void Forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Fs(req).Forget(ino, nlookup);
  fuse_reply_none(req);
}

void ForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; i++) Fs(req).Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void Getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  AsCaller(req, false, [req, ino](TaskState*) { ReplyAttr(req, Fs(req).Getattr(ino)); });
}

void Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  AsCaller(req, false,
           [req, ino, attr = *attr, to_set](TaskState*) { ReplyAttr(req, Fs(req).Setattr(ino, attr, to_set)); });
}

void Readlink(fuse_req_t req, fuse_ino_t ino) {
  AsCaller(req, false, [req, ino](TaskState*) {
    Result<std::string> target = Fs(req).Readlink(ino);
    if (!target) return ReplyErr(req, target.error());
    fuse_reply_readlink(req, target->c_str());
  });
}

void Make(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev, const char* target) {
  AsCaller(req, false,
           [req, parent, name = std::string(name), mode, rdev, target = std::string(target)](TaskState* task) {
             auto creds = CredsOf(req, task);
             if (!creds) return ReplyErr(req, EPERM);
             ReplyEntry(req, Fs(req).Make(parent, name, mode, rdev, target, *creds));
           });
}

void Mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  Make(req, parent, name, mode, rdev, "");
}
void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Make(req, parent, name, S_IFDIR | (mode & 07777), 0, "");
}
void Symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  Make(req, parent, name, S_IFLNK | 0777, 0, target);
}

void Remove(fuse_req_t req, fuse_ino_t parent, const char* name, bool directory) {
  AsCaller(req, false, [req, parent, name = std::string(name), directory](TaskState*) {
    Result<void> r = Fs(req).Remove(parent, name, directory);
    ReplyErr(req, r ? 0 : r.error());
  });
}
void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) { Remove(req, parent, name, false); }
void Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) { Remove(req, parent, name, true); }

void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent, const char* new_name,
            unsigned flags) {
  AsCaller(req, false,
           [req, parent, name = std::string(name), new_parent, new_name = std::string(new_name), flags](TaskState* task) {
             auto creds = CredsOf(req, task);
             if (!creds) return ReplyErr(req, EPERM);
             Result<void> r = Fs(req).Rename(parent, name, new_parent, new_name, flags, *creds);
             ReplyErr(req, r ? 0 : r.error());
           });
}

void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name) {
  AsCaller(req, false, [req, ino, new_parent, new_name = std::string(new_name)](TaskState*) {
    ReplyEntry(req, Fs(req).Link(ino, new_parent, new_name));
  });
}

void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  AsCaller(req, false, [req, ino, fi = *fi](TaskState*) mutable {
    Result<uint64_t> handle = Fs(req).Open(ino, fi.flags);
    if (!handle) return ReplyErr(req, handle.error());
    fi.fh = *handle;
    fi.keep_cache = 1;  // every write came through the host: its pages are the file's
    tmpfs::Served& fs = Fs(req);  // the reply frees the request
    if (fuse_reply_open(req, &fi) == -ENOENT) fs.Release(*handle);  // interrupted: no release will come
  });
}

void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  AsCaller(req, false, [req, parent, name = std::string(name), mode, fi = *fi](TaskState* task) mutable {
    auto creds = CredsOf(req, task);
    if (!creds) return ReplyErr(req, EPERM);
    tmpfs::Served& fs = Fs(req);
    Result<struct stat> st = Errno{EIO};
    uint64_t handle = 0;
    if (name == kTmpfileName) {
      st = fs.MakeUnnamed(parent, mode, fi.flags, *creds, &handle);
      if (!st) return ReplyErr(req, st.error());
    } else {
      st = fs.Make(parent, name, S_IFREG | (mode & 07777), 0, "", *creds);
      if (!st) return ReplyErr(req, st.error());
      Result<uint64_t> opened = fs.Open(st->st_ino, fi.flags);
      if (!opened) {
        fs.Forget(st->st_ino, 1);
        return ReplyErr(req, opened.error());
      }
      handle = *opened;
    }
    fuse_entry_param e{};
    e.ino = st->st_ino;
    e.attr = st.value();
    e.attr_timeout = kAttrTimeout;
    e.entry_timeout = kEntryTimeout;
    fi.fh = handle;
    fi.keep_cache = 1;
    if (fuse_reply_create(req, &e, &fi) == -ENOENT) {
      fs.Release(handle);
      fs.Forget(st->st_ino, 1);
    }
  });
}

void Release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  // From the last fput: no caller to speak of. Answered by the reader, as
  // forgets are, which the host may send before it (its forgets jump the
  // queue): the handle keeps the inode, not the node.
  Fs(req).Release(fi->fh);
  fuse_reply_err(req, 0);
}

void Flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) {
  fuse_reply_err(req, ENOSYS);  // tmpfs has no flush: the host stops asking
}

void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  AsCaller(req, false, [req, ino, size, off, flags = fi->flags](TaskState*) {
    std::vector<char> buf(size);
    Result<size_t> n = Fs(req).Read(ino, static_cast<uint64_t>(off), buf.data(), size, flags);
    if (!n) return ReplyErr(req, n.error());
    fuse_reply_buf(req, buf.data(), *n);
  });
}

void Write(fuse_req_t req, fuse_ino_t ino, const char* data, size_t size, off_t off, fuse_file_info* fi) {
  AsCaller(req, false,
           [req, ino, bytes = std::string(data, size), off, flags = fi->flags](TaskState*) {
             Result<size_t> n = Fs(req).Write(ino, static_cast<uint64_t>(off), bytes.data(), bytes.size(), flags);
             if (!n) return ReplyErr(req, n.error());
             fuse_reply_write(req, *n);
           });
}

void Readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  AsCaller(req, false, [req, ino, size, off](TaskState*) {
    Result<std::vector<tmpfs::Served::Entry>> entries = Fs(req).List(ino, static_cast<uint64_t>(off));
    if (!entries) return ReplyErr(req, entries.error());
    std::vector<char> buf(size);
    size_t used = 0;
    for (const auto& e : *entries) {
      struct stat st {};
      st.st_ino = e.ino;
      st.st_mode = e.type;
      size_t n = fuse_add_direntry(req, buf.data() + used, size - used, e.name.c_str(), &st,
                                   static_cast<off_t>(e.next));
      if (n > size - used) break;
      used += n;
    }
    fuse_reply_buf(req, buf.data(), used);
  });
}

void Statfs(fuse_req_t req, fuse_ino_t) {
  AsCaller(req, false, [req](TaskState*) {
    struct statvfs st;
    Fs(req).Statfs(&st);
    fuse_reply_statfs(req, &st);
  });
}

void Setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags) {
  AsCaller(req, false,
           [req, ino, name = std::string(name), value = std::string(value, size), flags](TaskState*) {
             Result<void> r = Fs(req).SetXattr(ino, name, value, flags);
             ReplyErr(req, r ? 0 : r.error());
           });
}

// A value or a list: its size when asked with size 0, ERANGE when it does
// not fit, else the bytes.
void ReplySized(fuse_req_t req, const std::string& bytes, size_t size) {
  if (size == 0) return (void)fuse_reply_xattr(req, bytes.size());
  if (bytes.size() > size) return ReplyErr(req, ERANGE);
  fuse_reply_buf(req, bytes.data(), bytes.size());
}

void Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  AsCaller(req, false, [req, ino, name = std::string(name), size](TaskState*) {
    Result<std::string> value = Fs(req).GetXattr(ino, name);
    if (!value) return ReplyErr(req, value.error());
    ReplySized(req, *value, size);
  });
}

void Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  AsCaller(req, false, [req, ino, size](TaskState* task) {
    auto creds = CredsOf(req, task);
    Credentials nobody;
    Result<std::vector<std::string>> names = Fs(req).ListXattr(ino, creds ? *creds : nobody);
    if (!names) return ReplyErr(req, names.error());
    std::string list;
    for (const std::string& n : *names) list.append(n).push_back('\0');
    ReplySized(req, list, size);
  });
}

void Removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  AsCaller(req, false, [req, ino, name = std::string(name)](TaskState*) {
    Result<void> r = Fs(req).RemoveXattr(ino, name);
    ReplyErr(req, r ? 0 : r.error());
  });
}

void Fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info*) {
  AsCaller(req, false, [req, ino, mode, offset, length](TaskState* task) {
    Result<void> r = Fs(req).Fallocate(ino, mode, offset, length, task);
    ReplyErr(req, r ? 0 : r.error());
  });
}

void Lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, fuse_file_info*) {
  AsCaller(req, false, [req, ino, off, whence](TaskState*) {
    if (whence != SEEK_DATA && whence != SEEK_HOLE) return ReplyErr(req, EINVAL);
    Result<uint64_t> at = Fs(req).SeekData(ino, off, whence);
    if (!at) return ReplyErr(req, at.error());
    fuse_reply_lseek(req, static_cast<off_t>(*at));
  });
}

void Ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void*, fuse_file_info*, unsigned, const void* in,
           size_t in_size, size_t) {
  int flags = 0;
  if (cmd == FS_IOC_SETFLAGS && in_size >= sizeof flags) std::memcpy(&flags, in, sizeof flags);
  AsCaller(req, false, [req, ino, cmd, flags](TaskState* task) {
    tmpfs::Served& fs = Fs(req);
    if (cmd == FS_IOC_GETFLAGS) {
      Result<int> got = fs.GetFlags(ino);
      if (!got) return ReplyErr(req, got.error());
      int value = *got;
      fuse_reply_ioctl(req, 0, &value, sizeof value);
      return;
    }
    if (cmd == FS_IOC_FSGETXATTR) {
      // The host's fileattr_get asks this way before a set (vfs_fileattr_set):
      // the same flags, as fileattr_fill_flags maps them.
      Result<int> got = fs.GetFlags(ino);
      if (!got) return ReplyErr(req, got.error());
      fsxattr fsx{};
      if (*got & FS_IMMUTABLE_FL) fsx.fsx_xflags |= FS_XFLAG_IMMUTABLE;
      if (*got & FS_APPEND_FL) fsx.fsx_xflags |= FS_XFLAG_APPEND;
      if (*got & FS_NODUMP_FL) fsx.fsx_xflags |= FS_XFLAG_NODUMP;
      if (*got & FS_NOATIME_FL) fsx.fsx_xflags |= FS_XFLAG_NOATIME;
      fuse_reply_ioctl(req, 0, &fsx, sizeof fsx);
      return;
    }
    if (cmd == FS_IOC_FSSETXATTR) return ReplyErr(req, EOPNOTSUPP);  // shmem_fileattr_set: no fsx
    if (cmd == FS_IOC_SETFLAGS) {
      auto creds = CredsOf(req, task);
      if (!creds) return ReplyErr(req, EPERM);
      Result<void> r = fs.SetFlags(ino, flags, *creds);
      if (!r) return ReplyErr(req, r.error());
      FuseServer& server = Server(req);  // the reply frees the request
      fuse_reply_ioctl(req, 0, nullptr, 0);
      server.InvalidateAttributes(ino);  // its ctime
      return;
    }
    ReplyErr(req, ENOTTY);
  });
}

// FUSE_STATX (Linux 6.6; the host asks it for what getattr lacks, such as
// the birth time), which this libfuse predates: its layouts, from the
// kernel's uapi fuse.h (7.39); the attributes are struct statx's.
constexpr uint32_t kFuseStatx = 52;
struct FuseStatxIn {
  uint32_t getattr_flags;
  uint32_t reserved;
  uint64_t fh;
  uint32_t sx_flags;
  uint32_t sx_mask;
};
struct FuseStatxOut {
  uint64_t attr_valid;
  uint32_t attr_valid_nsec;
  uint32_t flags;
  uint64_t spare[2];
  struct statx stat;
};
static_assert(sizeof(FuseStatxOut) == 32 + 256);

statx_timestamp Timestamp(const timespec& t) { return {t.tv_sec, static_cast<uint32_t>(t.tv_nsec), 0}; }

void Statx(FuseServer& server, const std::vector<char>& request) {
  fuse_in_header in;
  std::memcpy(&in, request.data(), sizeof in);
  RunAsCaller(server, static_cast<pid_t>(in.pid), false, [&server, in](TaskState*) {
    timespec btime{};
    Result<struct stat> st = server.context<tmpfs::Served>().Getattr(in.nodeid, &btime);
    if (!st) return server.Reply(in.unique, st.error(), nullptr, 0);
    FuseStatxOut out{};
    out.attr_valid = static_cast<uint64_t>(kAttrTimeout);
    struct statx& x = out.stat;
    x.stx_mask = STATX_BASIC_STATS | STATX_BTIME;
    x.stx_blksize = static_cast<uint32_t>(st->st_blksize);
    x.stx_nlink = static_cast<uint32_t>(st->st_nlink);
    x.stx_uid = st->st_uid;
    x.stx_gid = st->st_gid;
    x.stx_mode = static_cast<uint16_t>(st->st_mode);
    x.stx_ino = st->st_ino;
    x.stx_size = static_cast<uint64_t>(st->st_size);
    x.stx_blocks = static_cast<uint64_t>(st->st_blocks);
    x.stx_atime = Timestamp(st->st_atim);
    x.stx_btime = Timestamp(btime);
    x.stx_ctime = Timestamp(st->st_ctim);
    x.stx_mtime = Timestamp(st->st_mtim);
    x.stx_rdev_major = major(st->st_rdev);
    x.stx_rdev_minor = minor(st->st_rdev);
    server.Reply(in.unique, 0, &out, sizeof out);
  });
}

const fuse_lowlevel_ops kTmpfsOps = [] {
  fuse_lowlevel_ops ops{};
  ops.init = Init;
  ops.lookup = Lookup;
  ops.forget = Forget;
  ops.forget_multi = ForgetMulti;
  ops.getattr = Getattr;
  ops.setattr = Setattr;
  ops.readlink = Readlink;
  ops.mknod = Mknod;
  ops.mkdir = Mkdir;
  ops.unlink = Unlink;
  ops.rmdir = Rmdir;
  ops.symlink = Symlink;
  ops.rename = Rename;
  ops.link = Link;
  ops.open = Open;
  ops.create = Create;
  ops.release = Release;
  ops.flush = Flush;
  ops.read = Read;
  ops.write = Write;
  ops.readdir = Readdir;
  ops.statfs = Statfs;
  ops.setxattr = Setxattr;
  ops.getxattr = Getxattr;
  ops.listxattr = Listxattr;
  ops.removexattr = Removexattr;
  ops.fallocate = Fallocate;
  ops.lseek = Lseek;
  ops.ioctl = Ioctl;
  return ops;
}();

}  // namespace

const fuse_lowlevel_ops& TmpfsFuseOps() { return kTmpfsOps; }

void AddTmpfsRawHandlers(FuseServer& server) { server.HandleRaw(kFuseStatx, Statx); }

}  // namespace ukcov::sentry
