// The sentry's kernel without seccomp: this process plays the guest (its
// own memory is the guest's, its own fds the guest's table, pidfd_getfd
// works on oneself) and the handlers are called as a trapped call would call
// them. Unit tests of the fd table, the file operations of each filesystem,
// tmpfs itself and the VFS walk.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "sentry/credentials.h"
#include "sentry/fd_table.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/kernel.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"
#include "ukcov/kcov.h"

namespace ukcov::sentry {
namespace {

uint64_t P(const void* p) { return reinterpret_cast<uint64_t>(p); }

class SentryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/ukcov-sentry-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    mount_ = dir;
    auto engine = Engine::Create();
    ASSERT_TRUE(engine);
    engine_ = std::make_unique<Engine>(std::move(*engine));
    kernel_ = std::make_unique<Kernel>(*engine_);
    tmpfs::Options options;
    options.nr_inodes = 64;
    std::string error;
    ASSERT_TRUE(tmpfs::MountTmpfs(kernel_->vfs(), mount_, options, &error)) << error;
    process_ = std::make_shared<Process>();
    process_->tgid = getpid();
    process_->pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
    task_ = MakeTask(static_cast<pid_t>(syscall(SYS_gettid)));
  }
  void TearDown() override { rmdir(mount_.c_str()); }

  std::unique_ptr<TaskState> MakeTask(pid_t tid) {
    auto task = std::make_unique<TaskState>();
    task->tid = tid;
    task->process = process_;
    auto t = Task::Create(*engine_);
    EXPECT_TRUE(t);
    task->task = std::make_shared<Task>(std::move(*t));
    return task;
  }

  // A trapped call of `task`, dispatched as the supervisor would.
  Answer Call(TaskState& task, int nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0) {
    seccomp_notif notif{};
    notif.pid = static_cast<uint32_t>(task.tid);
    notif.data.nr = nr;
    notif.data.args[0] = a0;
    notif.data.args[1] = a1;
    notif.data.args[2] = a2;
    notif.data.args[3] = a3;
    Serving serving(*task.task);
    Syscall sc{notif, task, GuestMemory(task.tid, -1, 0)};
    return kernel_->Dispatch(sc);
  }
  Answer Call(int nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0) {
    return Call(*task_, nr, a0, a1, a2, a3);
  }
  // open(2) through the sentry: the fd it would install, as ours.
  int Open(const std::string& path, int flags) {
    Answer a = Call(SYS_openat, static_cast<uint64_t>(AT_FDCWD), P(path.c_str()), static_cast<uint64_t>(flags), 0644);
    if (a.kind != Answer::Kind::kInstallFd) return -1;
    return dup(a.fd->get());
  }
  static int64_t Errno(const Answer& a) { return a.kind == Answer::Kind::kReturn && a.value < 0 ? -a.value : 0; }
  // Whose a looked-up fd is: "bad", "host", or the mount point of the
  // mount whose inode it is open on.
  static std::string Whose(const FileRef& f) {
    if (!f.file) return "bad";
    if (f.file->Passthrough()) return "host";
    if (!f.inode || !f.mount) return "?";
    return f.mount->path;
  }

  std::string mount_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Kernel> kernel_;
  std::shared_ptr<Process> process_;
  std::unique_ptr<TaskState> task_;
};

TEST_F(SentryTest, LookupFdNamesEachKindAndFailsClosed) {
  UniqueFd kcov(Open("/sys/kernel/debug/kcov", O_RDWR));
  ASSERT_TRUE(kcov);
  UniqueFd file(Open(mount_ + "/f", O_RDWR | O_CREAT));
  ASSERT_TRUE(file);
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(Whose(LookupFd(*kernel_, *task_, kcov.get())), "/sys/kernel/debug");
  EXPECT_EQ(Whose(LookupFd(*kernel_, *task_, file.get())), mount_);
  FileRef host = LookupFd(*kernel_, *task_, null.get());
  EXPECT_EQ(Whose(host), "host");
  EXPECT_FALSE(host.inode);
  FileRef bad = LookupFd(*kernel_, *task_, 999999);
  EXPECT_EQ(Whose(bad), "bad");
  EXPECT_EQ(bad.error, EBADF);
  EXPECT_FALSE(bad.file);
  EXPECT_EQ(LookupFd(*kernel_, *task_, -1).error, EBADF);
  // A thread whose process is gone (no pidfd reaches it): an error, not the host's.
  TaskState gone;
  gone.tid = 0x3fffffff;
  gone.process = std::make_shared<Process>();
  gone.process->tgid = gone.tid;
  FileRef lost = LookupFd(*kernel_, gone, kcov.get());
  EXPECT_EQ(Whose(lost), "bad");
  EXPECT_NE(lost.error, 0);
}

// A thread with a table of its own: looked up there, with a thread pidfd;
// without one, kcmp sees another table and the /proc link names the file.
TEST_F(SentryTest, ThreadWithItsOwnTable) {
  UniqueFd kcov(Open("/sys/kernel/debug/kcov", O_RDWR));
  ASSERT_TRUE(kcov);
  UniqueFd file(Open(mount_ + "/g", O_RDWR | O_CREAT));
  ASSERT_TRUE(file);
  const int slot = 150, tmpfs_slot = 151;
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_EQ(dup2(null.get(), slot), slot);
  ASSERT_EQ(dup2(null.get(), tmpfs_slot), tmpfs_slot);
  pid_t tid = 0;
  int stage = 0;  // 1: the thread's table is ready; 2: done
  std::thread t([&] {
    unshare(CLONE_FILES);
    dup2(kcov.get(), slot);
    dup2(file.get(), tmpfs_slot);
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    __atomic_store_n(&stage, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&stage, __ATOMIC_ACQUIRE) != 2) usleep(100);
    close(slot);
    close(tmpfs_slot);
  });
  while (__atomic_load_n(&stage, __ATOMIC_ACQUIRE) != 1) usleep(100);
  auto thread = MakeTask(tid);
  // The main thread's table: /dev/null in both slots.
  EXPECT_EQ(Whose(LookupFd(*kernel_, *task_, slot)), "host");
  thread->pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, tid, 0200 /* PIDFD_THREAD */)));
  if (thread->pidfd) {
    EXPECT_EQ(Whose(LookupFd(*kernel_, *thread, slot)), "/sys/kernel/debug");
    EXPECT_EQ(Whose(LookupFd(*kernel_, *thread, tmpfs_slot)), mount_);
  }
  thread->pidfd.reset();  // as without PIDFD_THREAD
  EXPECT_EQ(Whose(LookupFd(*kernel_, *thread, slot)), "/sys/kernel/debug");
  FileRef unreachable = LookupFd(*kernel_, *thread, tmpfs_slot);
  EXPECT_EQ(Whose(unreachable), "bad");
  EXPECT_EQ(unreachable.error, EOPNOTSUPP);
  __atomic_store_n(&stage, 2, __ATOMIC_RELEASE);
  t.join();
  close(slot);
  close(tmpfs_slot);
}

TEST_F(SentryTest, KcovFileOperations) {
  UniqueFd kcov(Open("/sys/kernel/debug/kcov", O_RDWR));
  ASSERT_TRUE(kcov);
  char c;
  EXPECT_EQ(Errno(Call(SYS_read, static_cast<uint64_t>(kcov.get()), P(&c), 1)), EINVAL);
  EXPECT_EQ(Errno(Call(SYS_pread64, static_cast<uint64_t>(kcov.get()), P(&c), 1, 0)), ESPIPE);
  EXPECT_EQ(Errno(Call(SYS_pread64, static_cast<uint64_t>(kcov.get()), P(&c), 1, static_cast<uint64_t>(-1))), EINVAL);
  EXPECT_EQ(Errno(Call(SYS_lseek, static_cast<uint64_t>(kcov.get()), 0, SEEK_SET)), ESPIPE);
  EXPECT_EQ(Errno(Call(SYS_fsync, static_cast<uint64_t>(kcov.get()))), EINVAL);
  EXPECT_EQ(Errno(Call(SYS_fallocate, static_cast<uint64_t>(kcov.get()), 0, 0, 4096)), EOPNOTSUPP);
  EXPECT_EQ(Errno(Call(SYS_getdents64, static_cast<uint64_t>(kcov.get()), P(&c), 1)), ENOTDIR);
  EXPECT_EQ(Errno(Call(SYS_fcntl, static_cast<uint64_t>(kcov.get()), F_ADD_SEALS, 1)), EINVAL);
  Answer init = Call(SYS_ioctl, static_cast<uint64_t>(kcov.get()), UKCOV_KCOV_INIT_TRACE, 512);
  EXPECT_EQ(init.kind, Answer::Kind::kReturn);
  EXPECT_EQ(init.value, 0);
  EXPECT_EQ(Errno(Call(SYS_ioctl, static_cast<uint64_t>(kcov.get()), UKCOV_KCOV_INIT_TRACE, 512)), EBUSY);
  EXPECT_EQ(Errno(Call(SYS_ioctl, static_cast<uint64_t>(kcov.get()), 0x1234, 0)), ENOTTY);
  // The VFS's own commands are the host's.
  EXPECT_EQ(Call(SYS_ioctl, static_cast<uint64_t>(kcov.get()), FIOCLEX, 0).kind, Answer::Kind::kContinue);
}

TEST_F(SentryTest, TmpfsFileOperations) {
  UniqueFd file(Open(mount_ + "/data", O_RDWR | O_CREAT));
  ASSERT_TRUE(file);
  const char text[] = "hello";
  Answer w = Call(SYS_write, static_cast<uint64_t>(file.get()), P(text), 5);
  ASSERT_EQ(w.kind, Answer::Kind::kReturn);
  EXPECT_EQ(w.value, 5);
  EXPECT_EQ(lseek(file.get(), 0, SEEK_CUR), 5);  // the guest's own description moved
  char back[8] = {};
  Answer r = Call(SYS_pread64, static_cast<uint64_t>(file.get()), P(back), sizeof back, 1);
  EXPECT_EQ(r.value, 4);
  EXPECT_STREQ(back, "ello");
  Answer seek = Call(SYS_lseek, static_cast<uint64_t>(file.get()), 0, SEEK_END);
  EXPECT_EQ(seek.value, 5);
  UniqueFd read_only(Open(mount_ + "/data", O_RDONLY));
  EXPECT_EQ(Errno(Call(SYS_write, static_cast<uint64_t>(read_only.get()), P(text), 1)), EBADF);
  UniqueFd dir(Open(mount_, O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(dir);
  EXPECT_EQ(Errno(Call(SYS_read, static_cast<uint64_t>(dir.get()), P(back), 1)), EISDIR);
  char entries[512];
  Answer listed = Call(SYS_getdents64, static_cast<uint64_t>(dir.get()), P(entries), sizeof entries);
  EXPECT_GT(listed.value, 0);
  UniqueFd path_only(Open(mount_ + "/data", O_PATH));
  EXPECT_EQ(Errno(Call(SYS_read, static_cast<uint64_t>(path_only.get()), P(back), 1)), EBADF);
  Answer fl = Call(SYS_fcntl, static_cast<uint64_t>(path_only.get()), F_GETFL);
  EXPECT_EQ(fl.value, O_PATH);
  unlink((mount_ + "/data").c_str());  // the host's: nothing there
  Call(SYS_unlink, P((mount_ + "/data").c_str()));
}

// debugfs: the kcov device in a directory that lists it, stats as Linux's
// (a 0600 regular file in a 0700 directory, both root's), takes chmod, and
// has no names to make or extended attributes to keep.
TEST_F(SentryTest, Debugfs) {
  UniqueFd dir(Open("/sys/kernel/debug", O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(dir);
  EXPECT_EQ(Whose(LookupFd(*kernel_, *task_, dir.get())), "/sys/kernel/debug");
  alignas(8) char entries[512];
  Answer listed = Call(SYS_getdents64, static_cast<uint64_t>(dir.get()), P(entries), sizeof entries);
  ASSERT_GT(listed.value, 0);
  std::vector<std::string> names;
  for (int64_t at = 0; at < listed.value;) {
    auto* d = reinterpret_cast<struct dirent64*>(entries + at);
    names.push_back(d->d_name);
    at += d->d_reclen;
  }
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "kcov"}));
  EXPECT_EQ(Call(SYS_getdents64, static_cast<uint64_t>(dir.get()), P(entries), sizeof entries).value, 0);
  struct stat st;
  ASSERT_EQ(Call(SYS_newfstatat, static_cast<uint64_t>(AT_FDCWD), P("/sys/kernel/debug/kcov"), P(&st), 0).value, 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0600u);
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_EQ(Call(SYS_newfstatat, static_cast<uint64_t>(dir.get()), P(""), P(&st), AT_EMPTY_PATH).value, 0);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0700u);
  EXPECT_EQ(Errno(Call(SYS_mkdir, P("/sys/kernel/debug/d"), 0755)), EPERM);
  EXPECT_EQ(Errno(Call(SYS_unlink, P("/sys/kernel/debug/kcov"))), EPERM);
  UniqueFd kcov(Open("/sys/kernel/debug/kcov", O_RDWR));
  ASSERT_TRUE(kcov);
  EXPECT_EQ(Errno(Call(SYS_fsetxattr, static_cast<uint64_t>(kcov.get()), P("user.x"), P("v"), 1)), EOPNOTSUPP);
  EXPECT_EQ(Call(SYS_fchmod, static_cast<uint64_t>(kcov.get()), 0644).value, 0);
  ASSERT_EQ(Call(SYS_fstat, static_cast<uint64_t>(kcov.get()), P(&st)).value, 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0644u);
  struct statfs sfs;
  ASSERT_EQ(Call(SYS_fstatfs, static_cast<uint64_t>(kcov.get()), P(&sfs)).value, 0);
  EXPECT_EQ(sfs.f_type, 0x64626720);  // DEBUGFS_MAGIC
}

// tmpfs itself: inodes, names, the inode and size limits, its invariants.
TEST(TmpfsTest, NamesLimitsAndInvariants) {
  tmpfs::Options options;
  options.nr_inodes = 4;
  options.size_bytes = 8192;
  tmpfs::Filesystem fs(options, 42);
  Credentials creds;
  auto a = fs.Create(fs.root(), "a", S_IFREG | 0644, 0, "", creds);
  ASSERT_TRUE(a);
  EXPECT_EQ(fs.Lookup(*fs.root(), "a"), *a);
  EXPECT_EQ((*a)->nlink, 1u);
  tmpfs::Inode& data = tmpfs::Of(**a);
  EXPECT_TRUE(fs.Write(data, 0, "xy", 2));
  EXPECT_EQ((*a)->size, 2u);
  std::string big(16384, 'z');
  auto too_much = fs.Write(data, 0, big.data(), big.size());
  EXPECT_TRUE(!too_much || *too_much < big.size());  // the size limit stops it
  EXPECT_TRUE(fs.SetSize(**a, 0));
  EXPECT_EQ((*a)->size, 0u);
  auto b = fs.Create(fs.root(), "b", S_IFDIR | 0755, 0, "", creds);
  ASSERT_TRUE(b);
  auto c = fs.Create(*b, "c", S_IFREG | 0644, 0, "", creds);
  ASSERT_TRUE(c);
  auto d = fs.Create(fs.root(), "d", S_IFREG | 0644, 0, "", creds);
  ASSERT_FALSE(d);  // root, a, b, c: the 4 inodes
  EXPECT_EQ(d.error(), ENOSPC);
  EXPECT_EQ(fs.Link(fs.root(), "a2", *a).error(), ENOSPC);  // a second name takes an inode too
  EXPECT_TRUE(fs.Rename(*b, "c", fs.root(), "c2", 0, creds));
  EXPECT_EQ(fs.Lookup(*fs.root(), "c2"), *c);
  EXPECT_EQ(fs.Lookup(**b, "c"), nullptr);
  EXPECT_TRUE(fs.Unlink(fs.root(), "c2"));
  EXPECT_TRUE(fs.Unlink(fs.root(), "a"));
  EXPECT_EQ(fs.Unlink(fs.root(), "a").error(), ENOENT);
  std::string problems;
  fs.Check(&problems);
  EXPECT_EQ(problems, "");
}

// InodeLocks takes any set at once, in any order, without deadlock: two
// threads taking {a, b} and {b, a} over and over both finish, and each
// holds both while it counts (the counts would tear otherwise).
TEST(InodeLocksTest, AnyOrderNoDeadlock) {
  tmpfs::Filesystem fs({}, 7);
  Credentials creds;
  auto a = fs.Create(fs.root(), "a", S_IFDIR | 0755, 0, "", creds);
  auto b = fs.Create(fs.root(), "b", S_IFDIR | 0755, 0, "", creds);
  ASSERT_TRUE(a && b);
  uint64_t in_a = 0, in_b = 0;
  auto run = [&](Inode* first, Inode* second) {
    for (int i = 0; i < 20000; i++) {
      InodeLocks locks({first, second, first, nullptr});
      in_a++;
      in_b++;
    }
  };
  std::thread t1(run, a->get(), b->get());
  std::thread t2(run, b->get(), a->get());
  t1.join();
  t2.join();
  EXPECT_EQ(in_a, 40000u);
  EXPECT_EQ(in_b, 40000u);
  {
    InodeLocks held({a->get()});
    EXPECT_FALSE((*a)->mu.try_lock());  // held
    held.Unlock();
    EXPECT_TRUE((*a)->mu.try_lock());   // released
    (*a)->mu.unlock();
  }
}

// The walk: a path in the mount is the mount's; a tmpfs symlink to a host
// path reroutes to the host; others stay the host's.
TEST_F(SentryTest, VfsWalk) {
  Credentials creds = *kernel_->CredentialsOf(*task_);
  auto in = kernel_->vfs().Resolve(*kernel_, *task_, creds, AT_FDCWD, mount_ + "/x", kFollowLast);
  ASSERT_TRUE(in);
  EXPECT_FALSE(in->on_host());
  EXPECT_EQ(in->name, "x");
  EXPECT_EQ(in->inode, nullptr);
  auto out = kernel_->vfs().Resolve(*kernel_, *task_, creds, AT_FDCWD, "/etc/hostname", kFollowLast);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->on_host());
  EXPECT_FALSE(out->rerouted);
  auto mount = kernel_->vfs().MountAt(mount_);
  ASSERT_NE(mount, nullptr);
  auto link = mount->fs->Create(mount->fs->root(), "to_etc", S_IFLNK | 0777, 0, "/etc", creds);
  ASSERT_TRUE(link);
  auto through = kernel_->vfs().Resolve(*kernel_, *task_, creds, AT_FDCWD, mount_ + "/to_etc/hostname", kFollowLast);
  ASSERT_TRUE(through);
  EXPECT_TRUE(through->on_host());
  EXPECT_TRUE(through->rerouted);
  EXPECT_EQ(through->host_path, "/etc/hostname");
  auto loop = kernel_->vfs().Resolve(*kernel_, *task_, creds, AT_FDCWD, mount_ + "/to_etc/hostname/", kFollowLast);
  EXPECT_TRUE(!loop || loop->trailing_slash);
  EXPECT_TRUE(mount->fs->Unlink(mount->fs->root(), "to_etc"));
}

}  // namespace
}  // namespace ukcov::sentry
