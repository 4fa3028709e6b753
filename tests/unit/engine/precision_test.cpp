// Mixed precision: `auto` follows the CPU's own flags (read here from /proc/cpuinfo, independently
// of LibTorch's cpuinfo), and the autocast scope changes the compute dtype only inside itself.
#include "cltci/engine/precision.h"

#include "cltci/common/error.h"
#include "cltci/engine/optimizer.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>

namespace cltci::engine {
namespace {

/// Whether the kernel lists `flag` among the CPU's flags; false where there is no /proc/cpuinfo.
bool cpuinfo_has(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::string word;
    while (words >> word) {
      if (word == flag) return true;
    }
    return false;
  }
  return false;
}

TEST(Precision, NamesRoundTrip) {
  for (const Precision p :
       {Precision::kFp32, Precision::kBf16, Precision::kFp16, Precision::kAuto}) {
    EXPECT_EQ(precision_names().at(static_cast<std::size_t>(p)), to_string(p));
  }
  EXPECT_EQ(to_string(Precision::kAuto), "auto");
  EXPECT_EQ(to_string(OptimizerKind::kSgd), "sgd");
}

TEST(Precision, AutoFollowsTheCpusNativeBf16) {
  if (!std::ifstream("/proc/cpuinfo")) GTEST_SKIP() << "no /proc/cpuinfo to compare with";
  const bool native = cpuinfo_has("avx512_bf16") || cpuinfo_has("amx_bf16");
  const ResolvedPrecision resolved = resolve_precision(Precision::kAuto, c10::Device(c10::kCPU));
  EXPECT_EQ(resolved.precision, native ? Precision::kBf16 : Precision::kFp32) << resolved.reason;
  EXPECT_FALSE(resolved.reason.empty());
  // A precision that was chosen is kept as it is, with nothing to explain.
  for (const Precision p : {Precision::kFp32, Precision::kBf16, Precision::kFp16}) {
    const ResolvedPrecision kept = resolve_precision(p, c10::Device(c10::kCPU));
    EXPECT_EQ(kept.precision, p);
    EXPECT_TRUE(kept.reason.empty());
  }
}

TEST(Precision, AutocastChangesTheDtypeOnlyInsideTheScope) {
  const auto a = torch::rand({4, 8});
  const auto b = torch::rand({8, 3});
  {
    const AutocastScope scope(Precision::kBf16, c10::Device(c10::kCPU));
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::kCPU));
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat);
  {
    const AutocastScope scope(Precision::kFp32, c10::Device(c10::kCPU));
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat);
  }
  {
    const AutocastScope scope(Precision::kAuto, c10::Device(c10::kCPU));
    const Precision chosen = resolve_precision(Precision::kAuto, c10::Device(c10::kCPU)).precision;
    EXPECT_EQ(torch::mm(a, b).scalar_type(),
              chosen == Precision::kBf16 ? torch::kBFloat16 : torch::kFloat);
  }
  EXPECT_THROW(AutocastScope(Precision::kFp16, c10::Device(c10::kCPU)), common::InputError);
  EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::kCPU));
}

}  // namespace
}  // namespace cltci::engine
