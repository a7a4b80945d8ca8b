// The conformance table: one case per rule of the Linux kcov contract
// (../shared/reference/kcov-abi.md), each a short script of operations by
// tasks on instances with the errno Linux gives at every step. Orderings of
// checks are rows of their own ("X before Y": a call that breaks both rules
// must fail with X's errno).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <climits>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "test_host.h"

namespace ukcov_test {
namespace {

constexpr uint64_t USB = UKCOV_KCOV_SUBSYSTEM_USB;
constexpr uint64_t COMMON = UKCOV_KCOV_SUBSYSTEM_COMMON;
constexpr long ENOTSUPP_ = UKCOV_ENOTSUPP;

enum class Op { kOpen, kClose, kInit, kEnable, kDisable, kUnique, kReset, kIoctl, kMmap, kRemote, kExit, kFork,
                kHandles, kCommonHandle };

struct RemoteSpec {
  uint32_t mode = UKCOV_KCOV_TRACE_PC;
  uint32_t area_size = 64;
  uint64_t common = 0;
  std::vector<uint64_t> handles;
};

struct Step {
  Op op;
  int task = 0;
  int instance = 0;
  uint64_t a = 0;  // size / mode / arg / cmd / pgoff / child task / expected count
  uint64_t b = 0;  // ioctl arg / mmap length
  long expect = 0;  // 0 or a positive errno
  std::optional<RemoteSpec> remote;
};

Step Open(int i) { return {Op::kOpen, 0, i}; }
Step Close(int i) { return {Op::kClose, 0, i}; }
Step Init(int t, int i, uint64_t size, long e = 0) { return {Op::kInit, t, i, size, 0, e}; }
Step Enable(int t, int i, uint64_t mode, long e = 0) { return {Op::kEnable, t, i, mode, 0, e}; }
Step Disable(int t, int i, uint64_t arg, long e = 0) { return {Op::kDisable, t, i, arg, 0, e}; }
Step Unique(int t, int i, uint64_t words, long e = 0) { return {Op::kUnique, t, i, words, 0, e}; }
Step Reset(int t, int i, uint64_t arg, long e = 0) { return {Op::kReset, t, i, arg, 0, e}; }
Step Cmd(int t, int i, uint64_t cmd, uint64_t arg, long e) { return {Op::kIoctl, t, i, cmd, arg, e}; }
Step Mmap(int i, uint64_t pgoff, uint64_t length, long e = 0) { return {Op::kMmap, 0, i, pgoff, length, e}; }
Step Remote(int t, int i, RemoteSpec spec, long e = 0) { return {Op::kRemote, t, i, 0, 0, e, std::move(spec)}; }
Step Exit(int t) { return {Op::kExit, t}; }
Step Fork(int parent, int child) { return {Op::kFork, parent, 0, static_cast<uint64_t>(child)}; }
// Checks: registered handle count; a task's common handle.
Step Handles(uint64_t n) { return {Op::kHandles, 0, 0, n}; }
Step CommonHandle(int t, uint64_t h) { return {Op::kCommonHandle, t, 0, h}; }

struct Row {
  std::string name;
  std::vector<Step> steps;
  // The state machine's rows hold for any backend: the trace backend's
  // features, whatever this build compiled in.
  int64_t features = kTraceFeatures;
};

constexpr uint64_t kMaxSize = INT_MAX / 8;

// Steps 0..: tasks T0..T3 exist at the start; Fork makes more.
const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      // ---- INIT_TRACE ----
      {"init_size_0_einval", {Open(0), Init(0, 0, 0, EINVAL)}},
      {"init_size_1_einval", {Open(0), Init(0, 0, 1, EINVAL)}},
      {"init_size_2_smallest", {Open(0), Init(0, 0, 2)}},
      {"init_int_max_div_8_largest", {Open(0), Init(0, 0, kMaxSize)}},
      {"init_int_max_div_8_plus_1_einval", {Open(0), Init(0, 0, kMaxSize + 1, EINVAL)}},
      {"init_ulong_max_einval", {Open(0), Init(0, 0, ~0ull, EINVAL)}},
      {"init_twice_ebusy", {Open(0), Init(0, 0, 64), Init(0, 0, 64, EBUSY)}},
      {"init_size_checked_before_ebusy", {Open(0), Init(0, 0, 64), Init(0, 0, 1, EINVAL)}},
      {"init_after_enable_ebusy", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Init(0, 0, 64, EBUSY)}},
      {"init_after_disable_ebusy",
       {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Disable(0, 0, 0), Init(1, 0, 64, EBUSY)}},
      {"init_by_one_task_enable_by_another", {Open(0), Init(1, 0, 64), Enable(0, 0, 0)}},
      {"init_arg_is_size_by_value_not_pointer", {Open(0), Init(0, 0, 512), Mmap(0, 0, 4096)}},

      // ---- ENABLE ----
      {"enable_before_init_einval", {Open(0), Enable(0, 0, 0, EINVAL)}},
      {"enable_state_checked_before_mode", {Open(0), Enable(0, 0, 9, EINVAL)}},
      {"enable_pc_without_mmap", {Open(0), Init(0, 0, 64), Enable(0, 0, UKCOV_KCOV_TRACE_PC)}},
      {"enable_cmp", {Open(0), Init(0, 0, 64), Enable(0, 0, UKCOV_KCOV_TRACE_CMP)}},
      {"enable_mode_2_einval", {Open(0), Init(0, 0, 64), Enable(0, 0, 2, EINVAL)}},
      {"enable_mode_ulong_max_einval", {Open(0), Init(0, 0, 64), Enable(0, 0, ~0ull, EINVAL)}},
      {"enable_cmp_without_comparisons_enotsupp",
       {Open(0), Init(0, 0, 64), Enable(0, 0, UKCOV_KCOV_TRACE_CMP, ENOTSUPP_)},
       UKCOV_FEATURE_GUARDS},
      {"enable_pc_without_comparisons_ok", {Open(0), Init(0, 0, 64), Enable(0, 0, UKCOV_KCOV_TRACE_PC)}, 0},
      {"enable_twice_by_owner_einval", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Enable(0, 0, 0, EINVAL)}},
      {"enable_by_second_thread_einval", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Enable(1, 0, 0, EINVAL)}},
      {"enable_second_instance_by_owner_ebusy",
       {Open(0), Open(1), Init(0, 0, 64), Init(0, 1, 64), Enable(0, 0, 0), Enable(0, 1, 0, EBUSY)}},
      {"enable_ebusy_before_mode_check",
       {Open(0), Open(1), Init(0, 0, 64), Init(0, 1, 64), Enable(0, 0, 0), Enable(0, 1, 9, EBUSY)}},
      {"enable_ebusy_before_enotsupp",
       {Open(0), Open(1), Init(0, 0, 64), Init(0, 1, 64), Enable(0, 0, 0), Enable(0, 1, 1, EBUSY)},
       UKCOV_FEATURE_GUARDS},
      {"enable_einval_state_before_ebusy",
       {Open(0), Open(1), Init(0, 0, 64), Enable(0, 0, 0), Enable(0, 1, 0, EINVAL)}},
      {"enable_by_remote_owner_ebusy",
       {Open(0), Open(1), Init(0, 0, 64), Init(0, 1, 64), Remote(0, 0, {.handles = {USB | 1}}),
        Enable(0, 1, 0, EBUSY)}},
      {"enable_again_after_disable_any_task_any_mode",
       {Open(0), Init(0, 0, 64), Enable(0, 0, UKCOV_KCOV_TRACE_PC), Disable(0, 0, 0),
        Enable(1, 0, UKCOV_KCOV_TRACE_CMP), Disable(1, 0, 0), Enable(0, 0, UKCOV_KCOV_TRACE_PC)}},
      {"enable_other_instance_after_disable",
       {Open(0), Open(1), Init(0, 0, 64), Init(0, 1, 64), Enable(0, 0, 0), Disable(0, 0, 0), Enable(0, 1, 0)}},

      // ---- DISABLE ----
      {"disable_before_init_einval", {Open(0), Disable(0, 0, 0, EINVAL)}},
      {"disable_not_enabled_einval", {Open(0), Init(0, 0, 64), Disable(0, 0, 0, EINVAL)}},
      {"disable_nonzero_arg_einval_stays_enabled",
       {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Disable(0, 0, 1, EINVAL), Enable(1, 0, 0, EINVAL),
        Disable(0, 0, 0)}},
      {"disable_by_non_owner_einval", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Disable(1, 0, 0, EINVAL)}},
      {"disable_by_forked_child_einval",
       {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Fork(0, 4), Disable(4, 0, 0, EINVAL), Disable(0, 0, 0)}},
      {"disable_twice_einval", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Disable(0, 0, 0), Disable(0, 0, 0, EINVAL)}},
      {"disable_remote_releases_handles",
       {Open(0), Open(1), Init(0, 0, 64), Init(1, 1, 64),
        Remote(0, 0, {.common = COMMON | 7, .handles = {USB | 1}}), Handles(2), Disable(0, 0, 0), Handles(0),
        Remote(1, 1, {.common = COMMON | 7, .handles = {USB | 1}})}},

      // ---- KCOV_UNIQUE_ENABLE ----
      {"unique_without_guards_enotsupp_first", {Open(0), Unique(0, 0, 0, ENOTSUPP_)}, UKCOV_FEATURE_CMP},
      {"unique_before_init_einval", {Open(0), Unique(0, 0, 1, EINVAL)}},
      {"unique_zero_words_einval", {Open(0), Init(0, 0, 64), Unique(0, 0, 0, EINVAL)}},
      {"unique_size_minus_1_einval", {Open(0), Init(0, 0, 64), Unique(0, 0, 63, EINVAL)}},
      {"unique_size_minus_2_largest", {Open(0), Init(0, 0, 64), Unique(0, 0, 62)}},
      {"unique_ebusy_before_words_check",
       {Open(0), Open(1), Init(0, 0, 64), Init(0, 1, 64), Enable(0, 0, 0), Unique(0, 1, 0, EBUSY)}},
      {"unique_after_enable_einval", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Unique(0, 0, 1, EINVAL)}},
      {"unique_then_enable_by_owner_einval", {Open(0), Init(0, 0, 64), Unique(0, 0, 1), Enable(0, 0, 0, EINVAL)}},
      {"unique_disable_then_trace", {Open(0), Init(0, 0, 64), Unique(0, 0, 4), Disable(0, 0, 0), Enable(1, 0, 0)}},

      // ---- KCOV_RESET_TRACE ----
      {"reset_before_init_einval", {Open(0), Reset(0, 0, 0, EINVAL)}},
      {"reset_not_enabled_einval", {Open(0), Init(0, 0, 64), Reset(0, 0, 0, EINVAL)}},
      {"reset_nonzero_arg_einval", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Reset(0, 0, 1, EINVAL)}},
      {"reset_by_non_owner_einval", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Reset(1, 0, 0, EINVAL)}},
      {"reset_pc", {Open(0), Init(0, 0, 64), Enable(0, 0, UKCOV_KCOV_TRACE_PC), Reset(0, 0, 0)}},
      {"reset_cmp", {Open(0), Init(0, 0, 64), Enable(0, 0, UKCOV_KCOV_TRACE_CMP), Reset(0, 0, 0)}},
      {"reset_unique", {Open(0), Init(0, 0, 64), Unique(0, 0, 2), Reset(0, 0, 0)}},
      {"reset_remote_owner", {Open(0), Init(0, 0, 64), Remote(0, 0, {.handles = {USB | 3}}), Reset(0, 0, 0)}},
      {"reset_after_disable_einval",
       {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Disable(0, 0, 0), Reset(0, 0, 0, EINVAL)}},

      // ---- unknown commands ----
      {"unknown_cmd_enotty", {Open(0), Init(0, 0, 64), Cmd(0, 0, 0x1234, 0, ENOTTY)}},
      {"unknown_cmd_before_init_enotty", {Open(0), Cmd(0, 0, 0, 0, ENOTTY)}},
      {"init_trace_32bit_encoding_enotty", {Open(0), Cmd(0, 0, 0x80046301, 64, ENOTTY)}},
      {"next_kcov_number_enotty", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Cmd(0, 0, 0x6369, 0, ENOTTY)}},

      // ---- mmap ----
      {"mmap_before_init_einval", {Open(0), Mmap(0, 0, 4096, EINVAL)}},
      {"mmap_exact_size", {Open(0), Init(0, 0, 512), Mmap(0, 0, 4096)}},
      {"mmap_length_rounded_to_pages", {Open(0), Init(0, 0, 512), Mmap(0, 0, 4095), Mmap(0, 0, 1)}},
      {"mmap_offset_einval", {Open(0), Init(0, 0, 512), Mmap(0, 1, 4096, EINVAL)}},
      {"mmap_too_long_einval", {Open(0), Init(0, 0, 512), Mmap(0, 0, 8192, EINVAL), Mmap(0, 0, 4097, EINVAL)}},
      {"mmap_too_short_einval", {Open(0), Init(0, 0, 1024), Mmap(0, 0, 4096, EINVAL), Mmap(0, 0, 8192)}},
      {"mmap_size_not_page_multiple_never_maps",
       {Open(0), Init(0, 0, 100), Mmap(0, 0, 800, EINVAL), Mmap(0, 0, 4096, EINVAL)}},
      {"mmap_zero_length_einval", {Open(0), Init(0, 0, 512), Mmap(0, 0, 0, EINVAL)}},
      {"mmap_while_enabled_and_after_disable",
       {Open(0), Init(0, 0, 512), Enable(0, 0, 0), Mmap(0, 0, 4096), Disable(0, 0, 0), Mmap(0, 0, 4096)}},

      // ---- KCOV_REMOTE_ENABLE ----
      {"remote_before_init_einval", {Open(0), Remote(0, 0, {.handles = {USB | 1}}, EINVAL)}},
      {"remote_usb_handle", {Open(0), Init(0, 0, 64), Remote(0, 0, {.handles = {USB | 1}}), Handles(1)}},
      {"remote_no_handles", {Open(0), Init(0, 0, 64), Remote(0, 0, {}), Handles(0)}},
      {"remote_mode_einval", {Open(0), Init(0, 0, 64), Remote(0, 0, {.mode = 7, .handles = {USB | 1}}, EINVAL)}},
      {"remote_cmp_without_comparisons_enotsupp",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.mode = 1, .handles = {USB | 1}}, ENOTSUPP_), Handles(0)},
       UKCOV_FEATURE_GUARDS},
      {"remote_ebusy_before_mode",
       {Open(0), Open(1), Init(0, 0, 64), Init(0, 1, 64), Enable(0, 0, 0),
        Remote(0, 1, {.mode = 7, .handles = {USB | 1}}, EBUSY)}},
      {"remote_already_enabled_einval",
       {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Remote(1, 0, {.handles = {USB | 1}}, EINVAL)}},
      {"remote_twice_einval",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.handles = {USB | 1}}), Remote(0, 0, {.handles = {USB | 2}}, EINVAL)}},
      {"remote_handle_middle_bits_einval",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.handles = {USB | (1ull << 32)}}, EINVAL), Handles(0)}},
      {"remote_common_subsystem_in_handles_einval",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.handles = {COMMON | 1}}, EINVAL)}},
      {"remote_unknown_subsystem_einval",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.handles = {(2ull << 56) | 1}}, EINVAL)}},
      {"remote_usb_instance_0_valid", {Open(0), Init(0, 0, 64), Remote(0, 0, {.handles = {USB | 0}})}},
      {"remote_common_handle", {Open(0), Init(0, 0, 64), Remote(0, 0, {.common = COMMON | 5}), CommonHandle(0, 5)}},
      {"remote_common_handle_usb_einval",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.common = USB | 5}, EINVAL), CommonHandle(0, 0)}},
      {"remote_common_handle_middle_bits_einval",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.common = 1ull << 40}, EINVAL)}},
      {"remote_duplicate_in_one_call_eexist",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.handles = {USB | 1, USB | 1}}, EEXIST), Handles(0)}},
      {"remote_handle_of_other_instance_eexist",
       {Open(0), Open(1), Init(0, 0, 64), Init(1, 1, 64), Remote(0, 0, {.handles = {USB | 1}}),
        Remote(1, 1, {.handles = {USB | 2, USB | 1}}, EEXIST), Handles(1)}},
      {"remote_common_of_other_instance_eexist",
       {Open(0), Open(1), Init(0, 0, 64), Init(1, 1, 64), Remote(0, 0, {.common = COMMON | 9}),
        Remote(1, 1, {.common = COMMON | 9}, EEXIST)}},
      {"remote_failure_rolls_back",
       {Open(0), Open(1), Init(0, 0, 64), Init(1, 1, 64),
        Remote(0, 0, {.handles = {USB | 1, USB | 2, (3ull << 56)}}, EINVAL), Handles(0),
        Remote(1, 1, {.handles = {USB | 1, USB | 2}}), Enable(0, 0, 0)}},
      {"remote_handles_checked_before_common",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.common = USB | 1, .handles = {USB | 2, USB | 2}}, EEXIST)}},
      {"remote_owner_exit_releases_handles",
       {Open(0), Open(1), Init(0, 0, 64), Init(1, 1, 64), Remote(0, 0, {.common = COMMON | 4, .handles = {USB | 4}}),
        Exit(0), Handles(0), Remote(1, 1, {.common = COMMON | 4, .handles = {USB | 4}})}},
      {"remote_disable_by_non_owner_einval",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.handles = {USB | 1}}), Disable(1, 0, 0, EINVAL), Handles(1)}},

      // ---- lifetime ----
      {"owner_exit_is_disable", {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Exit(0), Enable(1, 0, 0)}},
      {"close_while_enabled_then_owner_exit",
       {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Close(0), Exit(0)}},
      {"exit_of_non_owner_changes_nothing",
       {Open(0), Init(0, 0, 64), Enable(0, 0, 0), Exit(1), Enable(2, 0, 0, EINVAL)}},
      {"forked_child_starts_disabled",
       {Open(0), Open(1), Init(0, 0, 64), Init(0, 1, 64), Enable(0, 0, 0), Fork(0, 4), Enable(4, 1, 0)}},
      {"forked_child_enables_inherited_fd", {Open(0), Init(0, 0, 64), Fork(0, 4), Enable(4, 0, 0), Disable(4, 0, 0)}},
      {"fork_inherits_common_handle",
       {Open(0), Init(0, 0, 64), Remote(0, 0, {.common = COMMON | 3}), Fork(0, 4), Fork(4, 5), CommonHandle(4, 3),
        CommonHandle(5, 3), CommonHandle(1, 0)}},
  };
  return rows;
}

std::string ErrnoName(long r) {
  if (r == 0) return "0";
  if (r == -UKCOV_ENOTSUPP) return "ENOTSUPP";
  const char* name = strerrorname_np(static_cast<int>(-r));
  return name != nullptr ? name : std::to_string(r);
}

class Conformance : public ::testing::TestWithParam<Row> {};

TEST_P(Conformance, Row) {
  const Row& row = GetParam();
  ukcov::Engine engine = MakeEngine(row.features);
  std::map<int, ukcov::Task> tasks;
  for (int t = 0; t < 4; t++) tasks.emplace(t, MakeTask(engine));
  std::map<int, ukcov::Instance> instances;

  for (size_t n = 0; n < row.steps.size(); n++) {
    const Step& step = row.steps[n];
    SCOPED_TRACE("step " + std::to_string(n));
    auto task = [&]() -> ukcov::Task& { return tasks.at(step.task); };
    auto inst = [&]() -> ukcov::Instance& { return instances.at(step.instance); };
    long r = 0;
    switch (step.op) {
      case Op::kOpen: instances.emplace(step.instance, OpenInstance(engine)); continue;
      case Op::kClose: instances.erase(step.instance); continue;
      case Op::kInit: r = Ioctl(task(), inst(), UKCOV_KCOV_INIT_TRACE, step.a); break;
      case Op::kEnable: r = Ioctl(task(), inst(), UKCOV_KCOV_ENABLE, step.a); break;
      case Op::kDisable: r = Ioctl(task(), inst(), UKCOV_KCOV_DISABLE, step.a); break;
      case Op::kUnique: r = Ioctl(task(), inst(), UKCOV_KCOV_UNIQUE_ENABLE, step.a); break;
      case Op::kReset: r = Ioctl(task(), inst(), UKCOV_KCOV_RESET_TRACE, step.a); break;
      case Op::kIoctl: r = Ioctl(task(), inst(), static_cast<unsigned>(step.a), step.b); break;
      case Op::kMmap: r = inst().MmapCheck(step.a, step.b); break;
      case Op::kRemote: {
        const RemoteSpec& spec = *step.remote;
        std::vector<uint64_t> arg(3 + spec.handles.size());
        auto* ra = reinterpret_cast<ukcov_kcov_remote_arg*>(arg.data());
        ra->trace_mode = spec.mode;
        ra->area_size = spec.area_size;
        ra->num_handles = static_cast<uint32_t>(spec.handles.size());
        ra->common_handle = spec.common;
        for (size_t i = 0; i < spec.handles.size(); i++) ra->handles[i] = spec.handles[i];
        r = Ioctl(task(), inst(), UKCOV_KCOV_REMOTE_ENABLE, reinterpret_cast<unsigned long>(ra));
        break;
      }
      case Op::kExit: tasks.erase(step.task); continue;
      case Op::kFork: tasks.emplace(static_cast<int>(step.a), std::move(task().Fork().value())); continue;
      case Op::kHandles: EXPECT_EQ(engine.stats().handles, step.a); continue;
      case Op::kCommonHandle: EXPECT_EQ(task().common_handle(), step.a); continue;
    }
    EXPECT_EQ(r, -step.expect) << "got " << ErrnoName(r);
  }
  // Nothing outlives its owners: close every file, end every task.
  instances.clear();
  tasks.clear();
  ukcov_engine_stats stats = engine.stats();
  EXPECT_EQ(stats.instances, 0u);
  EXPECT_EQ(stats.tasks, 0u);
  EXPECT_EQ(stats.handles, 0u);
}

INSTANTIATE_TEST_SUITE_P(Kcov, Conformance, ::testing::ValuesIn(Rows()),
                         [](const auto& info) { return info.param.name; });

// ---- rows that need more than the table's vocabulary ----

class RemoteArgMemory : public ::testing::Test {
 protected:
  // Two pages, the second inaccessible: a struct placed at the end of the
  // first page runs into the fault.
  void SetUp() override {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    mem_ = static_cast<char*>(mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(mem_, MAP_FAILED);
    ASSERT_EQ(mprotect(mem_ + page_, page_, PROT_NONE), 0);
    ASSERT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_INIT_TRACE, 64), 0);
  }
  void TearDown() override { munmap(mem_, 2 * page_); }
  ukcov_kcov_remote_arg* ArgEndingAt(size_t bytes) {
    return reinterpret_cast<ukcov_kcov_remote_arg*>(mem_ + page_ - bytes);
  }
  long RemoteEnable(const void* arg) {
    return Ioctl(task_, inst_, UKCOV_KCOV_REMOTE_ENABLE, reinterpret_cast<unsigned long>(arg));
  }

  ukcov::Engine engine_ = MakeEngine();
  ukcov::Task task_ = MakeTask(engine_);
  ukcov::Instance inst_ = OpenInstance(engine_);
  size_t page_ = 0;
  char* mem_ = nullptr;
};

TEST_F(RemoteArgMemory, NullPointerIsEfault) { EXPECT_EQ(RemoteEnable(nullptr), -EFAULT); }

TEST_F(RemoteArgMemory, UnmappedPointerIsEfault) { EXPECT_EQ(RemoteEnable(mem_ + page_), -EFAULT); }

TEST_F(RemoteArgMemory, TooManyHandlesIsEinvalBeforeReadingThem) {
  // Only the 24-byte header is readable: Linux checks the count before copying.
  ukcov_kcov_remote_arg* ra = ArgEndingAt(24);
  *ra = {.trace_mode = 0, .area_size = 64, .num_handles = UKCOV_KCOV_REMOTE_MAX_HANDLES + 1};
  EXPECT_EQ(RemoteEnable(ra), -EINVAL);
}

TEST_F(RemoteArgMemory, MaxHandlesAccepted) {
  std::vector<uint64_t> arg(3 + UKCOV_KCOV_REMOTE_MAX_HANDLES);
  auto* ra = reinterpret_cast<ukcov_kcov_remote_arg*>(arg.data());
  *ra = {.trace_mode = 0, .area_size = 64, .num_handles = UKCOV_KCOV_REMOTE_MAX_HANDLES};
  for (uint32_t i = 0; i < UKCOV_KCOV_REMOTE_MAX_HANDLES; i++) ra->handles[i] = UKCOV_KCOV_SUBSYSTEM_USB | i;
  EXPECT_EQ(RemoteEnable(ra), 0);
  EXPECT_EQ(engine_.stats().handles, UKCOV_KCOV_REMOTE_MAX_HANDLES);
}

TEST_F(RemoteArgMemory, HandlesRunningIntoUnmappedPageIsEfault) {
  ukcov_kcov_remote_arg* ra = ArgEndingAt(24 + 8);  // room for one handle, two announced
  *ra = {.trace_mode = 0, .area_size = 64, .num_handles = 2};
  EXPECT_EQ(RemoteEnable(ra), -EFAULT);
  EXPECT_EQ(engine_.stats().handles, 0u);
}

TEST_F(RemoteArgMemory, HandleCountChangedBetweenReadsIsEinval) {
  // A guest thread rewriting num_handles between Linux's two copies.
  struct Flip {
    int reads = 0;
  } flip;
  ukcov_user_memory memory{&flip, [](void* ctx, void* dst, uint64_t address, size_t length) -> int {
                             auto* f = static_cast<Flip*>(ctx);
                             std::memcpy(dst, reinterpret_cast<const void*>(address), length);
                             if (f->reads++ == 1) static_cast<ukcov_kcov_remote_arg*>(dst)->num_handles = 0;
                             return 0;
                           }};
  uint64_t arg[4] = {};
  auto* ra = reinterpret_cast<ukcov_kcov_remote_arg*>(arg);
  *ra = {.trace_mode = 0, .area_size = 64, .num_handles = 1};
  ra->handles[0] = UKCOV_KCOV_SUBSYSTEM_USB | 1;
  long r = Syscall(task_, [&] {
    return inst_.Ioctl(task_, UKCOV_KCOV_REMOTE_ENABLE, reinterpret_cast<unsigned long>(ra), &memory);
  });
  EXPECT_EQ(r, -EINVAL);
  EXPECT_EQ(flip.reads, 2);
}

TEST_F(RemoteArgMemory, HostReaderFaultIsEfault) {
  ukcov_user_memory memory{nullptr, [](void*, void*, uint64_t, size_t) -> int { return -EFAULT; }};
  long r = Syscall(task_, [&] { return inst_.Ioctl(task_, UKCOV_KCOV_REMOTE_ENABLE, 0x1000, &memory); });
  EXPECT_EQ(r, -EFAULT);
}

// INIT_TRACE allocates before it checks the state: out of memory wins over
// EBUSY. Run in a child whose address space is capped just above its size.
TEST(InitTraceMemory, EnomemAndItsOrderBeforeEbusy) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance fresh = OpenInstance(engine);
  ukcov::Instance busy = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, busy, UKCOV_KCOV_INIT_TRACE, 64), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    unsigned long pages = 0;
    FILE* f = fopen("/proc/self/statm", "r");
    if (f == nullptr || fscanf(f, "%lu", &pages) != 1) _exit(2);
    fclose(f);
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = pages * static_cast<unsigned long>(sysconf(_SC_PAGESIZE)) + (256ul << 20);
    if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(3);
    long r_fresh = Ioctl(task, fresh, UKCOV_KCOV_INIT_TRACE, kMaxSize);
    long r_busy = Ioctl(task, busy, UKCOV_KCOV_INIT_TRACE, kMaxSize);
    long r_small = Ioctl(task, fresh, UKCOV_KCOV_INIT_TRACE, 512);  // still fits
    _exit(r_fresh == -ENOMEM && r_busy == -ENOMEM && r_small == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace ukcov_test
