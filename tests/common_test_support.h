// Helpers shared by the unit tests.
#pragma once

#include "cltci/data/image_io.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <filesystem>
#include <limits>
#include <string>

/// First statement of every *_CUDA test: reports the test as skipped where there is no GPU, so
/// ctest lists GPU tests everywhere (test_main.cpp fails a run where one did not skip).
#define CLTCI_REQUIRE_CUDA()                                    \
  do {                                                          \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU"; \
  } while (0)

/// First statement of a test that writes or decodes PNG/JPEG files: reports it as skipped in the
/// GPU-only variant, which builds without image codecs (CLTCI_IMAGE_CODECS=OFF); a full build,
/// CI's, never skips it.
#define CLTCI_REQUIRE_IMAGE_CODECS()                                             \
  do {                                                                           \
    if (!cltci::data::image_codecs_available()) {                                \
      GTEST_SKIP() << "this build has no image codecs (CLTCI_IMAGE_CODECS=OFF)"; \
    }                                                                            \
  } while (0)

namespace cltci::testing {

/// A missing value (an undated image, a null in JSON).
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The repository's root, for the configs the tests read: $CLTCI_SOURCE_DIR where it is set (a
/// binary built on another machine, as scripts/device_check.sh runs the bundle's prebuilt ones),
/// else the tree this binary was built from.
std::filesystem::path source_dir();

/// A fresh empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace cltci::testing
