// Test entry point. GPU tests are named *_CUDA and skip themselves where no GPU exists
// (CLTCI_REQUIRE_CUDA, common_test_support.h), so ctest lists them everywhere and reports them
// as skipped; a *_CUDA test that ran on a machine without a GPU instead of skipping fails the run
// here, since it would otherwise pass (or crash) without having tested the GPU path.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdio>
#include <string>

namespace {

bool is_cuda_test(const ::testing::TestInfo& test) {
  const std::string name = test.name();
  const std::string suffix = "_CUDA";
  const auto ends_with = [&](const std::string& text) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // Parameterised tests put the instantiation or the parameter around the name.
  return ends_with(name) || name.find(suffix + "/") != std::string::npos ||
         ends_with(test.test_suite_name());
}

class CudaSkipCheck : public ::testing::EmptyTestEventListener {
 public:
  explicit CudaSkipCheck(bool gpu) : gpu_(gpu) {}
  void OnTestEnd(const ::testing::TestInfo& test) override {
    if (gpu_ || !is_cuda_test(test) || test.result()->Skipped()) return;
    std::fprintf(stderr,
                 "%s.%s is a *_CUDA test that did not skip without a GPU: start it with "
                 "CLTCI_REQUIRE_CUDA()\n",
                 test.test_suite_name(), test.name());
    violations_ = true;
  }
  bool violations() const { return violations_; }

 private:
  bool gpu_;
  bool violations_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto* check = new CudaSkipCheck(torch::cuda::is_available());
  ::testing::UnitTest::GetInstance()->listeners().Append(check);  // gtest owns it
  const int result = RUN_ALL_TESTS();
  return result != 0 ? result : (check->violations() ? 1 : 0);
}
