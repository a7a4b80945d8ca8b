#include "sentry/fuse_server.h"

#include "sentry/fuse_request.h"
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/fuse.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "sentry/fs/debugfs/served.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/kernel.h"
#include "sentry/proc_ids.h"

namespace ukcov::sentry {
namespace {

// Attributes and entries are never cached by the host: every stat asks
// (a chmod through one path shows through the others at once, as on Linux).
constexpr double kNoCache = 0.0;

debugfs::Served& Debugfs(fuse_req_t req) { return Server(req).context<debugfs::Served>(); }

void ReplyAttr(fuse_req_t req, const Result<struct stat>& st) {
  if (!st) {
    fuse_reply_err(req, st.error());
    return;
  }
  fuse_reply_attr(req, &st.value(), kNoCache);
}

// Each handler copies what it needs out of the request: the buffer it came
// in is read over by the next request before the executor runs it.
void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  AsCaller(req, false, [req, parent, name = std::string(name)](TaskState*) {
    Result<struct stat> st = Debugfs(req).Lookup(parent, name);
    if (!st) {
      fuse_reply_err(req, st.error());
      return;
    }
    fuse_entry_param e{};
    e.ino = st->st_ino;
    e.attr = st.value();
    e.attr_timeout = e.entry_timeout = kNoCache;
    fuse_reply_entry(req, &e);
  });
}

void Getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  AsCaller(req, false, [req, ino](TaskState*) { ReplyAttr(req, Debugfs(req).Getattr(ino)); });
}

void Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  AsCaller(req, false, [req, ino, attr = *attr, to_set](TaskState*) {
    ReplyAttr(req, Debugfs(req).Setattr(ino, attr, to_set));
  });
}

void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  AsCaller(req, false, [req, ino, fi = *fi](TaskState* task) mutable {
    if (task == nullptr) {
      fuse_reply_err(req, EACCES);  // only a guest task opens the device
      return;
    }
    Result<uint64_t> handle = Debugfs(req).Open(*task, ino, fi.flags);
    if (!handle) {
      fuse_reply_err(req, handle.error());
      return;
    }
    fi.fh = handle.value();
    // nonseekable_open; no page cache: every read and write reaches the
    // driver, which has neither.
    fi.direct_io = 1;
    fi.nonseekable = 1;
    fuse_reply_open(req, &fi);
  });
}

void Release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  Debugfs(req).Release(fi->fh);  // from the last fput: no caller to speak of
  fuse_reply_err(req, 0);
}

void Read(fuse_req_t req, fuse_ino_t, size_t, off_t, fuse_file_info* fi) {
  AsCaller(req, false, [req, fh = fi->fh](TaskState*) { fuse_reply_err(req, Debugfs(req).ReadWrite(fh, true)); });
}

void Write(fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info* fi) {
  AsCaller(req, false, [req, fh = fi->fh](TaskState*) { fuse_reply_err(req, Debugfs(req).ReadWrite(fh, false)); });
}

void Flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) {
  fuse_reply_err(req, ENOSYS);  // debugfs has no flush: the host stops asking
}

void Fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
  fuse_reply_err(req, EINVAL);  // no fsync operation (vfs_fsync_range)
}

void Readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  AsCaller(req, false, [req, ino, size, off](TaskState*) {
    Result<std::vector<debugfs::Served::Entry>> entries = Debugfs(req).List(ino);
    if (!entries) {
      fuse_reply_err(req, entries.error());
      return;
    }
    std::vector<char> buf(size);
    size_t used = 0;
    for (size_t i = static_cast<size_t>(off); i < entries->size(); i++) {
      const auto& e = (*entries)[i];
      size_t n = fuse_add_direntry(req, buf.data() + used, size - used, e.name.c_str(), &e.attr,
                                   static_cast<off_t>(i + 1));
      if (n > size - used) break;
      used += n;
    }
    fuse_reply_buf(req, buf.data(), used);
  });
}

void Statfs(fuse_req_t req, fuse_ino_t) {
  struct statvfs st;
  Debugfs(req).Statfs(&st);
  fuse_reply_statfs(req, &st);
}

// The directory operations debugfs lacks (EPERM: vfs_mkdir, vfs_unlink...;
// create is EACCES: vfs_create).
void Mknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { fuse_reply_err(req, EPERM); }
void Mkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { fuse_reply_err(req, EPERM); }
void Unlink(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EPERM); }
void Rmdir(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EPERM); }
void Symlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { fuse_reply_err(req, EPERM); }
void Rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned) { fuse_reply_err(req, EPERM); }
void Link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { fuse_reply_err(req, EPERM); }
// O_TMPFILE comes as a create of "/" (FuseServer::Loop): no tmpfile
// operation, EOPNOTSUPP (vfs_tmpfile).
void Create(fuse_req_t req, fuse_ino_t, const char* name, mode_t, fuse_file_info*) {
  fuse_reply_err(req, std::strcmp(name, "/") == 0 ? EOPNOTSUPP : EACCES);
}
// No extended attributes (debugfs has no xattr handlers): an empty list.
void Setxattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) { fuse_reply_err(req, EOPNOTSUPP); }
void Getxattr(fuse_req_t req, fuse_ino_t, const char*, size_t) { fuse_reply_err(req, EOPNOTSUPP); }
void Listxattr(fuse_req_t req, fuse_ino_t, size_t size) {
  if (size == 0)
    fuse_reply_xattr(req, 0);
  else
    fuse_reply_buf(req, nullptr, 0);
}
void Removexattr(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EOPNOTSUPP); }
void Fallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) { fuse_reply_err(req, EOPNOTSUPP); }

void Ioctl(fuse_req_t req, fuse_ino_t, unsigned int cmd, void* arg, fuse_file_info* fi, unsigned, const void*, size_t,
           size_t) {
  const pid_t tid = fuse_req_ctx(req)->pid;
  if (cmd == KcovDevice::kWhoAmI && IsOwnThread(tid)) {
    // The sentry's LookupFd, on a guest's file it borrowed.
    fuse_reply_ioctl(req, static_cast<int>(fi->fh), nullptr, 0);
    return;
  }
  // Data moves through guest memory (GuestMemory), never through FUSE: the
  // host copies in and out only what the command's encoding says, which
  // for KCOV_INIT_TRACE (an _IOR whose argument is a value) is nothing.
  const uint64_t address = reinterpret_cast<uint64_t>(arg);
  AsCaller(req, KcovDevice::DependsOnExits(cmd), [req, tid, cmd, address, fh = fi->fh](TaskState* task) {
    if (task == nullptr) {
      fuse_reply_err(req, ESRCH);
      return;
    }
    FuseServer& server = Server(req);
    seccomp_notif notif{};
    notif.pid = static_cast<uint32_t>(tid);
    notif.data.nr = SYS_ioctl;
    notif.data.args[1] = cmd;
    notif.data.args[2] = address;
    Syscall sc{notif, *task, GuestMemory(tid, -1, 0)};
    Answer a = server.context<debugfs::Served>().Ioctl(server.kernel(), sc, fh, cmd, address);
    // FUSE carries errnos below 512 only (the host refuses the reply and
    // the caller would wait forever): kcov's own commands, whose answers
    // may be ENOTSUPP, are trapped instead (syscalls.h, kIoctlsNotForFuse).
    if (a.kind == Answer::Kind::kReturn && a.value <= -512)
      fuse_reply_err(req, EIO);
    else if (a.kind == Answer::Kind::kReturn && a.value < 0)
      fuse_reply_err(req, static_cast<int>(-a.value));
    else
      fuse_reply_ioctl(req, static_cast<int>(a.value), nullptr, 0);
  });
}

const fuse_lowlevel_ops kDebugfsOps = [] {
  fuse_lowlevel_ops ops{};
  ops.lookup = Lookup;
  ops.getattr = Getattr;
  ops.setattr = Setattr;
  ops.open = Open;
  ops.release = Release;
  ops.read = Read;
  ops.write = Write;
  ops.flush = Flush;
  ops.fsync = Fsync;
  ops.readdir = Readdir;
  ops.statfs = Statfs;
  ops.mknod = Mknod;
  ops.mkdir = Mkdir;
  ops.unlink = Unlink;
  ops.rmdir = Rmdir;
  ops.symlink = Symlink;
  ops.rename = Rename;
  ops.link = Link;
  ops.create = Create;
  ops.setxattr = Setxattr;
  ops.getxattr = Getxattr;
  ops.listxattr = Listxattr;
  ops.removexattr = Removexattr;
  ops.fallocate = Fallocate;
  ops.ioctl = Ioctl;
  return ops;
}();

}  // namespace

const fuse_lowlevel_ops& DebugfsFuseOps() { return kDebugfsOps; }

FuseServer::FuseServer(Kernel& kernel, const fuse_lowlevel_ops& ops, void* context, std::string name, RunAs run_as)
    : kernel_(kernel), ops_(ops), context_(context), name_(std::move(name)), run_as_(std::move(run_as)) {}

FuseServer::~FuseServer() { Stop(); }

Result<void> FuseServer::Start(UniqueFd device, std::string* error) {
  device_ = std::move(device);
  stop_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_) return *error = "eventfd", Errno{errno};
  char arg0[] = "ukcov";
  char* argv[] = {arg0, nullptr};
  fuse_args args = FUSE_ARGS_INIT(1, argv);
  session_ = fuse_session_new(&args, &ops_, sizeof ops_, this);
  fuse_opt_free_args(&args);  // what option parsing allocated
  if (session_ == nullptr) return *error = "fuse_session_new failed", Errno{ENOMEM};
  // libfuse takes an fd that is already mounted as "/dev/fd/N".
  const std::string mountpoint = "/dev/fd/" + std::to_string(device_.get());
  if (fuse_session_mount(session_, mountpoint.c_str()) != 0)
    return *error = "fuse_session_mount of the guest's " + name_ + " failed", Errno{EIO};
  executor_ = std::thread([this] { Execute(); });
  thread_ = std::thread([this] { Loop(); });
  return {};
}

void FuseServer::Defer(std::function<void()> work) {
  {
    std::lock_guard lock(queue_mu_);
    queue_.push_back(std::move(work));
  }
  queue_cv_.notify_one();
}

void FuseServer::Execute() {
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

void FuseServer::Loop() {
  // Read here rather than by libfuse, which reports the connection's end
  // (ENODEV, or ECONNABORTED as the guest's namespace goes) on stderr. The
  // buffer holds the largest request the host may send (a write of
  // FUSE_MAX_MAX_PAGES pages and its header).
  std::vector<char> mem(256 * 4096 + 4096);
  const int fd = fuse_session_fd(session_);
  // `busy_` from before the read to the answer: Settle's "nothing queued
  // and nothing in hand".
  auto idle = [this] {
    {
      std::lock_guard lock(settle_mu_);
      busy_ = false;
      processed_++;
    }
    settle_cv_.notify_all();
  };
  while (!fuse_session_exited(session_)) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents & POLLIN) break;
    {
      std::lock_guard lock(settle_mu_);
      busy_ = true;
    }
    ssize_t n = read(fd, mem.data(), mem.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOENT)) {  // ENOENT: interrupted request
      idle();
      continue;
    }
    if (n <= 0) break;  // ENODEV, ECONNABORTED: the mount is gone with the guest
    requests_.fetch_add(1, std::memory_order_relaxed);
    // FUSE_TMPFILE (51, Linux 6.1), unknown to this libfuse, has a create's
    // arguments and answer: it goes to the create handler, as a create of
    // the name "/" (the unnamed dentry's, which no other request has).
    constexpr uint32_t kFuseTmpfile = 51, kFuseCreate = 35;
    if (n >= 8 && std::memcmp(mem.data() + 4, &kFuseTmpfile, 4) == 0) std::memcpy(mem.data() + 4, &kFuseCreate, 4);
    uint32_t opcode;
    std::memcpy(&opcode, mem.data() + 4, sizeof opcode);
    bool raw = false;
    for (auto& [code, handler] : raw_) {
      if (code != opcode || static_cast<size_t>(n) < sizeof(fuse_in_header)) continue;
      handler(*this, std::vector<char>(mem.data(), mem.data() + n));
      raw = true;
    }
    if (raw) {
      idle();
      continue;
    }
    fuse_buf buf{};
    buf.size = static_cast<size_t>(n);
    buf.mem = mem.data();
    fuse_session_process_buf(session_, &buf);
    idle();
  }
  {
    std::lock_guard lock(settle_mu_);
    busy_ = false;
    ended_ = true;
  }
  settle_cv_.notify_all();
}

void FuseServer::Settle() {
  const int fd = session_ != nullptr ? fuse_session_fd(session_) : -1;
  if (fd < 0) return;
  std::unique_lock lock(settle_mu_);
  for (;;) {
    if (ended_) return;
    pollfd p{fd, POLLIN, 0};
    const bool queued = poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
    if (!queued && !busy_) return;
    const uint64_t seen = processed_;
    settle_cv_.wait(lock, [&] { return processed_ != seen || ended_; });
  }
}

void FuseServer::HandleRaw(uint32_t opcode, RawHandler handler) { raw_.emplace_back(opcode, std::move(handler)); }

void FuseServer::Reply(uint64_t unique, int error, const void* body, size_t size) {
  fuse_out_header out{};
  out.unique = unique;
  out.error = -error;
  if (error != 0) size = 0;
  out.len = static_cast<uint32_t>(sizeof out + size);
  iovec iov[2] = {{&out, sizeof out}, {const_cast<void*>(body), size}};
  // ENOENT: the request was interrupted meanwhile, nobody waits for it.
  (void)!writev(fuse_session_fd(session_), iov, size != 0 ? 2 : 1);
}

void FuseServer::InvalidateAttributes(uint64_t node) {
  if (session_ != nullptr) fuse_lowlevel_notify_inval_inode(session_, node, -1, 0);
}

void FuseServer::Stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
  if (executor_.joinable()) {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;  // what is queued still runs: every request gets its reply
    }
    queue_cv_.notify_all();
    executor_.join();
  }
  if (session_ != nullptr) {
    fuse_session_destroy(session_);  // closes the device fd it was given
    session_ = nullptr;
    (void)device_.release();
  }
}

}  // namespace ukcov::sentry
