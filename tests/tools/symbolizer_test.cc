// The symboliser on PCs the engine really recorded, and the PC readers.
#include "tools/symbolizer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "fake_kernel.h"
#include "tools/pc_input.h"
#include "ukcov/ukcov.hpp"

namespace {

TEST(Symbolizer, RecordedPcsNameTheirFunctionAndLine) {
  auto engine = ukcov::Engine::Create();
  auto task = ukcov::Task::Create(*engine);
  auto inst = ukcov::Instance::Open(*engine);
  ASSERT_EQ(inst->Ioctl(*task, UKCOV_KCOV_INIT_TRACE, 512), 0);
  ASSERT_EQ(inst->Ioctl(*task, UKCOV_KCOV_ENABLE, 0), 0);
  uint64_t* area = inst->area().data();
  area[0] = 0;
  {
    ukcov::Serving serving(*task);
    fake_kernel::SysRead(-1, nullptr, 0);
  }
  ASSERT_GT(area[0], 0u);
  auto symbolizer = ukcov::tools::Symbolizer::Open("/proc/self/exe");
  ASSERT_TRUE(symbolizer.ok()) << symbolizer.error();
  for (uint64_t i = 1; i <= area[0]; i++) {
    ukcov::tools::Symbolized s = symbolizer->Symbolize(area[i]);
    ASSERT_FALSE(s.frames.empty()) << std::hex << area[i];
    EXPECT_NE(s.frames[0].function.find("fake_kernel::SysRead"), std::string::npos) << s.frames[0].function;
    EXPECT_NE(s.frames[0].file.find("fake_kernel.cc"), std::string::npos) << s.frames[0].file;
    EXPECT_GT(s.frames[0].line, 0);
    EXPECT_NE(ukcov::tools::Format(s).find("fake_kernel.cc:"), std::string::npos);
  }
}

TEST(Symbolizer, UnknownAddressHasNoFrames) {
  auto symbolizer = ukcov::tools::Symbolizer::Open("/proc/self/exe");
  ASSERT_TRUE(symbolizer.ok());
  ukcov::tools::Symbolized s = symbolizer->Symbolize(UKCOV_CANONICAL_PC_BASE + 0x7fff0000);
  EXPECT_TRUE(s.frames.empty());
  EXPECT_NE(ukcov::tools::Format(s).find("??"), std::string::npos);
}

TEST(Symbolizer, MissingOrNonElfFileIsAnError) {
  EXPECT_EQ(ukcov::tools::Symbolizer::Open("/nonexistent/binary").error(), ENOENT);
  EXPECT_EQ(ukcov::tools::Symbolizer::Open("/etc/hostname").error(), ENOEXEC);
}

TEST(PcInput, HexListWithAndWithoutPrefix) {
  std::istringstream in("0xffffffff80001234\n\n# comment\n  ffffffff80005678  \n10\n");
  auto list = ukcov::tools::ReadPcList(in);
  ASSERT_TRUE(list) << list.error;
  EXPECT_EQ(list.pcs, (std::vector<uint64_t>{0xffffffff80001234ull, 0xffffffff80005678ull, 0x10}));
}

TEST(PcInput, GarbageNamesItsLine) {
  for (const char* text : {"0x12\nzz\n", "0x12\n0x\n", "0x12\n12345678901234567\n", "0x12\n-5\n"}) {
    std::istringstream in(text);
    auto list = ukcov::tools::ReadPcList(in);
    EXPECT_FALSE(list);
    EXPECT_NE(list.error.find("line 2"), std::string::npos) << list.error;
  }
}

TEST(PcInput, AreaDump) {
  uint64_t words[] = {2, 0xffffffff80000010ull, 0xffffffff80000020ull, 0xdead};
  std::istringstream in(std::string(reinterpret_cast<const char*>(words), sizeof words));
  auto list = ukcov::tools::ReadArea(in);
  ASSERT_TRUE(list) << list.error;
  EXPECT_EQ(list.pcs, (std::vector<uint64_t>{0xffffffff80000010ull, 0xffffffff80000020ull}));
}

TEST(PcInput, AreaDumpErrors) {
  uint64_t lying[] = {5, 1, 2};
  std::istringstream a(std::string(reinterpret_cast<const char*>(lying), sizeof lying));
  EXPECT_FALSE(ukcov::tools::ReadArea(a));
  std::istringstream b(std::string("1234567"));
  EXPECT_FALSE(ukcov::tools::ReadArea(b));
  std::istringstream c{std::string()};
  EXPECT_FALSE(ukcov::tools::ReadArea(c));
}

}  // namespace
