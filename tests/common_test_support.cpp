#include "common_test_support.h"

#include <atomic>
#include <cstdlib>
#include <random>
#include <system_error>
#include <unistd.h>

namespace cltci::testing {

std::filesystem::path source_dir() {
  const char* relocated = std::getenv("CLTCI_SOURCE_DIR");
  return relocated != nullptr && *relocated != '\0' ? relocated : CLTCI_SOURCE_DIR;
}

TempDir::TempDir() {
  static std::atomic<unsigned> counter{0};
  std::random_device entropy;
  path_ = std::filesystem::temp_directory_path() /
          ("cltci-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(entropy()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace cltci::testing
