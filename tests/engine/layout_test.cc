// What lands in the area: Linux's TRACE_PC, TRACE_CMP and unique layouts,
// the PC encoding, and the bounds under a guest that scribbles on the count.
#include <gtest/gtest.h>

#include <link.h>

#include <algorithm>
#include <cstring>
#include <cerrno>
#include <set>
#include <vector>

#include "fake_kernel.h"
#include "test_host.h"

extern "C" {
void __sanitizer_cov_trace_pc_guard(uint32_t* guard);
void __sanitizer_cov_trace_pc();
void __sanitizer_cov_trace_cmp1(uint8_t, uint8_t);
void __sanitizer_cov_trace_cmp2(uint16_t, uint16_t);
void __sanitizer_cov_trace_cmp4(uint32_t, uint32_t);
void __sanitizer_cov_trace_cmp8(uint64_t, uint64_t);
void __sanitizer_cov_trace_const_cmp1(uint8_t, uint8_t);
void __sanitizer_cov_trace_const_cmp2(uint16_t, uint16_t);
void __sanitizer_cov_trace_const_cmp4(uint32_t, uint32_t);
void __sanitizer_cov_trace_const_cmp8(uint64_t, uint64_t);
void __sanitizer_cov_trace_switch(uint64_t, uint64_t*);
}

namespace ukcov_test {
namespace {

using fake_kernel::RangeOf;

constexpr uint64_t kKernelTextLo = 0xffffffff80000000ull;
constexpr uint64_t kKernelTextHi = 0xffffffffff000000ull;

struct CmpRecord {
  uint64_t type, arg1, arg2, pc;
  bool operator==(const CmpRecord&) const = default;
};

// The address just after the call to ReturnAddress() in its caller.
__attribute__((noinline)) uintptr_t ReturnAddress() {
  uintptr_t ret = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  asm volatile("" : "+r"(ret));
  return ret;
}
// Where the code at this point is, canonically: a little after the PC a
// callback called just before records (its own return address).
#define HERE() engine_.EncodePc(ReturnAddress())
// How far apart those two may be (unoptimised sanitizer builds spread code).
constexpr uint64_t kNear = 1024;

// A kcov PC is a return address: the 5 bytes before it are `call callee`.
bool ReturnsFromCallTo(uintptr_t ret, const void* callee) {
  const auto* p = reinterpret_cast<const uint8_t*>(ret - 5);
  if (p[0] != 0xe8) return false;
  int32_t rel;
  std::memcpy(&rel, p + 1, sizeof rel);
  return ret + static_cast<intptr_t>(rel) == reinterpret_cast<uintptr_t>(callee);
}

class Layout : public ::testing::Test {
 protected:
  // CMP and unique modes are the trace backend's: a counters build answers
  // ENOTSUPP for both, as Linux without CONFIG_KCOV_ENABLE_COMPARISONS.
  // True (having checked that) when this build cannot run a test of them.
  bool TraceBackendOnly() {
    if (!CountersBuild()) return false;
    EXPECT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_INIT_TRACE, 4096), 0);
    EXPECT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_CMP), -UKCOV_ENOTSUPP);
    EXPECT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_UNIQUE_ENABLE, 64), -UKCOV_ENOTSUPP);
    return true;
  }
  uint64_t* Init(uint64_t words) {
    EXPECT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_INIT_TRACE, words), 0);
    return inst_.area().data();
  }
  uint64_t* Enable(uint64_t words, unsigned long mode = UKCOV_KCOV_TRACE_PC) {
    uint64_t* area = Init(words);
    EXPECT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_ENABLE, mode), 0);
    StoreCount(area, 0);
    return area;
  }
  static void StoreCount(uint64_t* trace, uint64_t n) { __atomic_store_n(&trace[0], n, __ATOMIC_RELAXED); }
  std::vector<uint64_t> Pcs(const uint64_t* trace) const {
    return std::vector<uint64_t>(trace + 1, trace + 1 + Count(trace));
  }
  std::vector<CmpRecord> Records(const uint64_t* trace) const {
    std::vector<CmpRecord> out;
    for (uint64_t i = 0; i < Count(trace); i++) {
      const uint64_t* r = &trace[1 + 4 * i];
      out.push_back({r[0], r[1], r[2], r[3]});
    }
    return out;
  }
  // Back from a canonical PC to the address in this process.
  uintptr_t Raw(uint64_t pc) const {
    ukcov_pc_map map;
    ukcov_engine_pc_map(engine_.get(), &map);
    return pc - map.bias;
  }

  ukcov::Engine engine_ = MakeEngine();
  ukcov::Task task_ = MakeTask(engine_);
  ukcov::Instance inst_ = OpenInstance(engine_);
};

TEST_F(Layout, ReadOfBadFdRecordsPcsOfTheHandlerOnly) {
  uint64_t* area = Enable(4096);
  long r = Syscall(task_, [] { return fake_kernel::SysRead(-1, nullptr, 0); });
  EXPECT_EQ(r, -EBADF);
  std::vector<uint64_t> pcs = Pcs(area);
  ASSERT_FALSE(pcs.empty());
  auto range = RangeOf(reinterpret_cast<const void*>(&fake_kernel::SysRead));
  ASSERT_NE(range.begin, 0u);
  for (uint64_t pc : pcs) {
    EXPECT_GE(pc, kKernelTextLo);
    EXPECT_LT(pc, kKernelTextHi);
    EXPECT_TRUE(range.Contains(Raw(pc))) << std::hex << pc;
  }
}

TEST_F(Layout, DifferentPathsGiveDifferentPcs) {
  uint64_t* area = Enable(4096);
  Syscall(task_, [] { return fake_kernel::SysRead(-1, nullptr, 0); });
  std::vector<uint64_t> ebadf = Pcs(area);
  StoreCount(area, 0);
  Syscall(task_, [] { return fake_kernel::SysRead(3, nullptr, 0); });
  std::vector<uint64_t> ok = Pcs(area);
  EXPECT_NE(ebadf, ok);
}

TEST_F(Layout, SameCallTwiceGivesTheSameTrace) {
  uint64_t* area = Enable(4096);
  Syscall(task_, [] { return fake_kernel::Walk(20); });
  std::vector<uint64_t> first = Pcs(area);
  StoreCount(area, 0);
  Syscall(task_, [] { return fake_kernel::Walk(20); });
  EXPECT_EQ(Pcs(area), first);
  // The trace has an edge per iteration; counters have each block once.
  EXPECT_GT(first.size(), CountersBuild() ? 2u : 20u);  // Walk() has 3 blocks
}

TEST_F(Layout, NothingRecordedOutsideServing) {
  uint64_t* area = Enable(4096);
  fake_kernel::Walk(10);
  EXPECT_EQ(Count(area), 0u);
  Syscall(task_, [] { return fake_kernel::Walk(10); });
  uint64_t n = Count(area);
  EXPECT_GT(n, 0u);
  fake_kernel::Walk(10);
  EXPECT_EQ(Count(area), n);
}

TEST_F(Layout, UninstrumentedCodeLeavesNoPc) {
  uint64_t* area = Enable(4096);
  Syscall(task_, [] { return RangeOf(reinterpret_cast<const void*>(&fake_kernel::Walk)); });
  EXPECT_EQ(Count(area), 0u);
}

TEST_F(Layout, OverflowStopsAtSizeMinusOne) {
  // (Counters have each of Walk()'s 3 blocks once: at most 3 PCs.)
  const std::vector<uint64_t> sizes = CountersBuild() ? std::vector<uint64_t>{2, 3, 4} : std::vector<uint64_t>{2, 3, 8, 64};
  for (uint64_t size : sizes) {
    SCOPED_TRACE(size);
    ukcov::Instance inst = OpenInstance(engine_);
    ASSERT_EQ(Ioctl(task_, inst, UKCOV_KCOV_INIT_TRACE, size), 0);
    uint64_t* area = inst.area().data();
    ASSERT_EQ(Ioctl(task_, inst, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC), 0);
    StoreCount(area, 0);
    Syscall(task_, [] { return fake_kernel::Walk(1000); });
    EXPECT_EQ(Count(area), size - 1);
    for (uint64_t i = 1; i < size; i++) EXPECT_NE(area[i], 0u);
    // The rest of the page past the area is never written.
    for (uint64_t i = size; i < 512; i++) ASSERT_EQ(area[i], 0u) << i;
    ASSERT_EQ(Ioctl(task_, inst, UKCOV_KCOV_DISABLE, 0), 0);
  }
}

TEST_F(Layout, EnableDoesNotClearTheArea) {
  uint64_t* area = Init(64);
  area[0] = 3;
  area[1] = 0xaaaa;
  ASSERT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC), 0);
  EXPECT_EQ(area[0], 3u);
  EXPECT_EQ(area[1], 0xaaaau);
  Syscall(task_, [] { return fake_kernel::PathA(3); });
  EXPECT_GT(Count(area), 3u);  // appended after what was there
  EXPECT_EQ(area[1], 0xaaaau);
}

TEST_F(Layout, HostileCountNeverWritesOutsideTheArea) {
  // A 512-word area alone on its page: the page past it is not ours, and a
  // wild store would fault (or be caught by ASan).
  uint64_t* area = Enable(512);
  for (uint64_t count : {~0ull, ~0ull - 1, 511ull, 512ull, 1ull << 63, (1ull << 59) - 1}) {
    StoreCount(area, count);
    Syscall(task_, [] { return fake_kernel::Walk(3); });
    uint64_t after = Count(area);
    if (count == ~0ull) {
      // pos wraps to 0: the count word itself is the one slot written, as in Linux.
      EXPECT_NE(after, count);
    } else {
      EXPECT_EQ(after, count);
    }
  }
}

TEST_F(Layout, HostileCmpCountNeverWritesOutsideTheArea) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Enable(512, UKCOV_KCOV_TRACE_CMP);
  // 2^59-1 makes Linux's (1 + 4*count) wrap to a small index while its byte
  // bound wraps too; ukcov's bound cannot be fooled.
  for (uint64_t count : {(1ull << 59) - 1, (1ull << 62), ~0ull, 127ull, 128ull}) {
    StoreCount(area, count);
    Syscall(task_, [] { __sanitizer_cov_trace_cmp8(1, 2); });
    EXPECT_EQ(Count(area), count);
  }
}

TEST_F(Layout, CanonicalPcIsKernelBasePlusOffsetInModule) {
  uint64_t* area = Enable(64);
  uint64_t expected = 0;
  Syscall(task_, [&] {
    __sanitizer_cov_trace_pc();  // gcc's callback records in PC mode too
    expected = HERE();
  });
  ASSERT_EQ(Count(area), 1u);
  ukcov_pc_map map;
  ukcov_engine_pc_map(engine_.get(), &map);
  EXPECT_EQ(area[1], UKCOV_CANONICAL_PC_BASE + (Raw(area[1]) - map.load_base));
  // The PC is the callback's return address: just after the call, which is
  // where HERE() (a call too) returns a few bytes later.
  EXPECT_LE(area[1], expected);
  EXPECT_GT(area[1] + kNear, expected);
  EXPECT_TRUE(ReturnsFromCallTo(Raw(area[1]), reinterpret_cast<const void*>(&__sanitizer_cov_trace_pc)));
}

TEST(LayoutRaw, RawEncodingKeepsAddresses) {
  ukcov::Engine engine = MakeEngine(AllFeatures(), UKCOV_PC_RAW);
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 512), 0);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC), 0);
  uint64_t* area = inst.area().data();
  area[0] = 0;
  Syscall(task, [] { return fake_kernel::SysRead(-1, nullptr, 0); });
  auto range = RangeOf(reinterpret_cast<const void*>(&fake_kernel::SysRead));
  ASSERT_GT(Count(area), 0u);
  for (uint64_t i = 1; i <= Count(area); i++) EXPECT_TRUE(range.Contains(area[i])) << std::hex << area[i];
}

// Code of libc.so (a module that is surely not this test's executable; a
// libc function's address may be a sanitizer's interceptor in it).
const void* CodeInLibc() {
  const void* found = nullptr;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "/libc.so") == nullptr) return 0;
        for (int i = 0; i < info->dlpi_phnum; i++) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
            *static_cast<const void**>(out) = reinterpret_cast<const void*>(info->dlpi_addr + ph.p_vaddr);
            return 1;
          }
        }
        return 0;
      },
      &found);
  return found;
}

// An engine whose canonical map is another module's (here libc's, through
// pc_module): the instrumented code of this test is outside it, so its PCs
// must stay raw, in TRACE_PC and in unique mode. (With every instrumented
// module inside the map the callbacks add the bias without a range check:
// the other tests.)
TEST(LayoutForeignMap, PcsOutsideTheMapStayRaw) {
  if (CountersBuild()) return;  // counters PCs come from the PC table, not return addresses
  const void* libc = CodeInLibc();
  ASSERT_NE(libc, nullptr) << "no libc.so loaded";
  ukcov_engine_options options;
  ukcov_engine_options_init(&options);
  options.features = AllFeatures();
  options.pc_module = libc;
  auto made = ukcov::Engine::Create(&options);
  ASSERT_TRUE(made.ok()) << made.error();
  ukcov::Engine engine = std::move(made.value());
  ukcov_pc_map map;
  ukcov_engine_pc_map(engine.get(), &map);
  uintptr_t sys_read = reinterpret_cast<uintptr_t>(&fake_kernel::SysRead);
  ASSERT_FALSE(sys_read - map.lo < map.len) << "the fake kernel is inside libc's map";
  auto range = RangeOf(reinterpret_cast<const void*>(&fake_kernel::SysRead));
  for (unsigned long mode : {static_cast<unsigned long>(UKCOV_KCOV_TRACE_PC), 0ul}) {
    ukcov::Task task = MakeTask(engine);
    ukcov::Instance inst = OpenInstance(engine);
    ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 4096), 0);
    uint64_t* trace = inst.area().data();
    if (mode == UKCOV_KCOV_TRACE_PC) {
      ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, mode), 0);
    } else {
      if (!(ukcov_registered_features() & UKCOV_FEATURE_GUARDS)) continue;  // gcc: no guards, no unique mode
      ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_UNIQUE_ENABLE, ukcov_guard_count() / 64 + 1), 0);
      trace += ukcov_guard_count() / 64 + 1;
    }
    trace[0] = 0;
    Syscall(task, [] { return fake_kernel::SysRead(-1, nullptr, 0); });
    ASSERT_GT(Count(trace), 0u) << "mode " << mode;
    for (uint64_t i = 1; i <= Count(trace); i++) EXPECT_TRUE(range.Contains(trace[i])) << std::hex << trace[i];
  }
}

TEST_F(Layout, CmpRecordEncoding) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Enable(4096, UKCOV_KCOV_TRACE_CMP);
  std::vector<uint64_t> pcs;
  Syscall(task_, [&] {
    __sanitizer_cov_trace_cmp1(0xff, 0x01);
    pcs.push_back(HERE());
    __sanitizer_cov_trace_cmp2(0xfffe, 7);
    pcs.push_back(HERE());
    __sanitizer_cov_trace_cmp4(0x80000000u, 9);
    pcs.push_back(HERE());
    __sanitizer_cov_trace_cmp8(~0ull, 1);
    pcs.push_back(HERE());
    __sanitizer_cov_trace_const_cmp1(0x42, 0x80);
    pcs.push_back(HERE());
    __sanitizer_cov_trace_const_cmp2(0x1234, 0xffff);
    pcs.push_back(HERE());
    __sanitizer_cov_trace_const_cmp4(5, 0xdeadbeef);
    pcs.push_back(HERE());
    __sanitizer_cov_trace_const_cmp8(0x1122334455667788ull, 3);
    pcs.push_back(HERE());
  });
  std::vector<CmpRecord> recs = Records(area);
  ASSERT_EQ(recs.size(), 8u);
  const void* callee[] = {
      reinterpret_cast<const void*>(&__sanitizer_cov_trace_cmp1),
      reinterpret_cast<const void*>(&__sanitizer_cov_trace_cmp2),
      reinterpret_cast<const void*>(&__sanitizer_cov_trace_cmp4),
      reinterpret_cast<const void*>(&__sanitizer_cov_trace_cmp8),
      reinterpret_cast<const void*>(&__sanitizer_cov_trace_const_cmp1),
      reinterpret_cast<const void*>(&__sanitizer_cov_trace_const_cmp2),
      reinterpret_cast<const void*>(&__sanitizer_cov_trace_const_cmp4),
      reinterpret_cast<const void*>(&__sanitizer_cov_trace_const_cmp8),
  };
  const CmpRecord want[] = {
      {0, 0xff, 0x01, 0},       {2, 0xfffe, 7, 0},         {4, 0x80000000u, 9, 0},
      {6, ~0ull, 1, 0},         {1, 0x42, 0x80, 0},        {3, 0x1234, 0xffff, 0},
      {5, 5, 0xdeadbeef, 0},    {7, 0x1122334455667788ull, 3, 0},
  };
  for (size_t i = 0; i < 8; i++) {
    SCOPED_TRACE(i);
    EXPECT_EQ(recs[i].type, want[i].type);
    EXPECT_EQ(recs[i].arg1, want[i].arg1);  // zero-extended, never sign-extended
    EXPECT_EQ(recs[i].arg2, want[i].arg2);
    EXPECT_LE(recs[i].pc, pcs[i]);
    EXPECT_GT(recs[i].pc + kNear, pcs[i]);
    EXPECT_TRUE(ReturnsFromCallTo(Raw(recs[i].pc), callee[i]));
    EXPECT_LE(recs[i].type, 7u);  // syzkaller aborts on anything else
  }
}

TEST_F(Layout, SwitchGivesOneConstRecordPerCase) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Enable(4096, UKCOV_KCOV_TRACE_CMP);
  uint64_t cases32[] = {3, 32, 10, 20, 30};
  uint64_t cases8[] = {1, 8, 0x7f};
  uint64_t cases16[] = {1, 16, 0x1234};
  uint64_t cases64[] = {2, 64, 1ull << 40, 5};
  uint64_t cases_bad[] = {2, 7, 1, 2};
  Syscall(task_, [&] {
    __sanitizer_cov_trace_switch(20, cases32);
    __sanitizer_cov_trace_switch(0x7f, cases8);
    __sanitizer_cov_trace_switch(9, cases16);
    __sanitizer_cov_trace_switch(5, cases64);
    __sanitizer_cov_trace_switch(1, cases_bad);  // no such width: nothing
  });
  std::vector<CmpRecord> recs = Records(area);
  ASSERT_EQ(recs.size(), 7u);
  const uint64_t c = UKCOV_KCOV_CMP_CONST;
  EXPECT_EQ((std::vector<uint64_t>{recs[0].type, recs[0].arg1, recs[0].arg2}),
            (std::vector<uint64_t>{c | UKCOV_KCOV_CMP_SIZE(2), 10, 20}));
  EXPECT_EQ(recs[1].arg1, 20u);
  EXPECT_EQ(recs[2].arg1, 30u);
  EXPECT_EQ(recs[3].type, c | UKCOV_KCOV_CMP_SIZE(0));
  EXPECT_EQ(recs[3].arg1, 0x7fu);
  EXPECT_EQ(recs[4].type, c | UKCOV_KCOV_CMP_SIZE(1));
  EXPECT_EQ(recs[4].arg2, 9u);
  EXPECT_EQ(recs[5].type, c | UKCOV_KCOV_CMP_SIZE(3));
  EXPECT_EQ(recs[5].arg1, 1ull << 40);
  EXPECT_EQ(recs[6].arg1, 5u);
  EXPECT_EQ(recs[0].pc, recs[1].pc);  // one call site
}

TEST_F(Layout, CmpCapacityIsSizeMinusOneOverFour) {
  if (TraceBackendOnly()) return;
  for (auto [size, records] : std::vector<std::pair<uint64_t, uint64_t>>{{4, 0}, {5, 1}, {8, 1}, {9, 2}, {13, 3}}) {
    SCOPED_TRACE(size);
    ukcov::Instance inst = OpenInstance(engine_);
    ASSERT_EQ(Ioctl(task_, inst, UKCOV_KCOV_INIT_TRACE, size), 0);
    ASSERT_EQ(Ioctl(task_, inst, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_CMP), 0);
    uint64_t* area = inst.area().data();
    StoreCount(area, 0);
    Syscall(task_, [] {
      for (int i = 0; i < 10; i++) __sanitizer_cov_trace_cmp4(i, 1);
    });
    EXPECT_EQ(Count(area), records);
    for (uint64_t i = 1 + 4 * records; i < 512; i++) ASSERT_EQ(area[i], 0u) << i;
    ASSERT_EQ(Ioctl(task_, inst, UKCOV_KCOV_DISABLE, 0), 0);
  }
}

TEST_F(Layout, ModesDoNotMix) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Enable(4096, UKCOV_KCOV_TRACE_CMP);
  uint32_t guard = 1;
  Syscall(task_, [&] {
    __sanitizer_cov_trace_pc_guard(&guard);
    __sanitizer_cov_trace_pc();
  });
  EXPECT_EQ(Count(area), 0u);  // edges are not comparisons
  ASSERT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_DISABLE, 0), 0);
  ASSERT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC), 0);
  StoreCount(area, 0);
  uint64_t cases[] = {1, 32, 4};
  Syscall(task_, [&] {
    __sanitizer_cov_trace_cmp8(1, 2);
    __sanitizer_cov_trace_switch(4, cases);
  });
  EXPECT_EQ(Count(area), 0u);
}

TEST_F(Layout, CompiledComparisonsAreRecorded) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Enable(4096, UKCOV_KCOV_TRACE_CMP);
  Syscall(task_, [] {
    fake_kernel::Equal64(0xabcdef, 0x123456);
    fake_kernel::IsMagic(0x77);
  });
  std::vector<CmpRecord> recs = Records(area);
  bool equal = false, magic = false;
  for (const CmpRecord& r : recs) {
    if (r.type == UKCOV_KCOV_CMP_SIZE(3) &&
        ((r.arg1 == 0xabcdef && r.arg2 == 0x123456) || (r.arg1 == 0x123456 && r.arg2 == 0xabcdef)))
      equal = true;
    if (r.type == (UKCOV_KCOV_CMP_SIZE(3) | UKCOV_KCOV_CMP_CONST) && r.arg1 == 0x1122334455667788ull &&
        r.arg2 == 0x77)
      magic = true;
  }
  EXPECT_TRUE(equal);
  EXPECT_TRUE(magic);
}

TEST_F(Layout, CompiledSwitchIsRecorded) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Enable(4096, UKCOV_KCOV_TRACE_CMP);
  Syscall(task_, [] { return fake_kernel::Classify(17); });
  bool seen = false;
  for (const CmpRecord& r : Records(area)) {
    EXPECT_TRUE(r.type & UKCOV_KCOV_CMP_CONST);
    if (r.arg2 == 17 && (r.arg1 == 1000 || r.arg1 == 123456 || r.arg1 == 3 || r.arg1 == 17)) seen = true;
  }
  EXPECT_TRUE(seen);
}

// ---- unique mode ----

TEST_F(Layout, UniqueAppendsEachGuardOnce) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Init(512);
  ASSERT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_UNIQUE_ENABLE, 4), 0);  // 256 bits
  uint64_t* trace = area + 4;
  StoreCount(trace, 0);
  uint32_t guards[] = {1, 2, 200, 255};
  Syscall(task_, [&] {
    for (int round = 0; round < 3; round++)
      for (uint32_t& g : guards) __sanitizer_cov_trace_pc_guard(&g);
  });
  EXPECT_EQ(Count(trace), 4u);
  EXPECT_EQ(area[0], (1ull << 1) | (1ull << 2));
  EXPECT_EQ(area[3], (1ull << (200 - 192)) | (1ull << (255 - 192)));
}

TEST_F(Layout, UniqueGuardsBeyondTheBitmapAreAlwaysAppended) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Init(512);
  ASSERT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_UNIQUE_ENABLE, 1), 0);  // bits 0..63
  uint64_t* trace = area + 1;
  StoreCount(trace, 0);
  uint32_t inside = 5, outside = 64, unnumbered = 0;
  Syscall(task_, [&] {
    for (int i = 0; i < 3; i++) {
      __sanitizer_cov_trace_pc_guard(&inside);
      __sanitizer_cov_trace_pc_guard(&outside);
      __sanitizer_cov_trace_pc_guard(&unnumbered);
    }
  });
  EXPECT_EQ(Count(trace), 1u + 3u + 3u);
  EXPECT_EQ(area[0], 1ull << 5);
}

TEST_F(Layout, UniqueResetClearsBitmapAndCount) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Init(512);
  ASSERT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_UNIQUE_ENABLE, 2), 0);
  uint64_t* trace = area + 2;
  StoreCount(trace, 0);
  uint32_t g = 70;
  Syscall(task_, [&] { __sanitizer_cov_trace_pc_guard(&g); });
  ASSERT_EQ(Count(trace), 1u);
  ASSERT_EQ(area[1], 1ull << 6);
  ASSERT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_RESET_TRACE, 0), 0);
  EXPECT_EQ(area[0], 0u);
  EXPECT_EQ(area[1], 0u);
  EXPECT_EQ(Count(trace), 0u);
  Syscall(task_, [&] { __sanitizer_cov_trace_pc_guard(&g); });
  EXPECT_EQ(Count(trace), 1u);
}

TEST_F(Layout, UniqueOverflowStopsAtTraceSizeMinusOne) {
  if (TraceBackendOnly()) return;
  uint64_t* area = Init(8);
  ASSERT_EQ(Ioctl(task_, inst_, UKCOV_KCOV_UNIQUE_ENABLE, 4), 0);  // trace: 4 words, 3 PCs
  uint64_t* trace = area + 4;
  StoreCount(trace, 0);
  uint32_t guards[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  Syscall(task_, [&] {
    for (uint32_t& g : guards) __sanitizer_cov_trace_pc_guard(&g);
  });
  EXPECT_EQ(Count(trace), 3u);
}

// With the build's real guards: the second run of the same code adds
// nothing. gcc has no guards, so there the same engine answers 524.
TEST(UniqueCompiled, SecondRunAddsNothing) {
  ukcov::Engine engine = MakeEngine(-1);
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 4096), 0);
  uint64_t words = ukcov_guard_count() / 64 + 1;
  long r = Ioctl(task, inst, UKCOV_KCOV_UNIQUE_ENABLE, words);
  if (!(ukcov_registered_features() & UKCOV_FEATURE_GUARDS)) {
    EXPECT_EQ(r, -UKCOV_ENOTSUPP);
    return;
  }
  ASSERT_EQ(r, 0);
  ASSERT_GT(ukcov_guard_count(), 0u);
  uint64_t* area = inst.area().data();
  uint64_t* trace = area + words;
  trace[0] = 0;
  Syscall(task, [] { return fake_kernel::Walk(50) + fake_kernel::PathA(5) + fake_kernel::PathA(9); });
  uint64_t first = Count(trace);
  ASSERT_GT(first, 0u);
  std::set<uint64_t> distinct(trace + 1, trace + 1 + first);
  EXPECT_EQ(distinct.size(), first);
  uint64_t bits = 0;
  for (uint64_t i = 0; i < words; i++) bits += static_cast<uint64_t>(__builtin_popcountll(area[i]));
  EXPECT_EQ(bits, first);
  Syscall(task, [] { return fake_kernel::Walk(50) + fake_kernel::PathA(5) + fake_kernel::PathA(9); });
  EXPECT_EQ(Count(trace), first);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_RESET_TRACE, 0), 0);
  Syscall(task, [] { return fake_kernel::Walk(50) + fake_kernel::PathA(5) + fake_kernel::PathA(9); });
  EXPECT_EQ(Count(trace), first);
}

}  // namespace
}  // namespace ukcov_test
