#include "fuzz_input_file.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>
#include <unistd.h>

namespace cltci::fuzz {
namespace {

class ScratchDirectory {
 public:
  ScratchDirectory()
      : path_(std::filesystem::temp_directory_path() /
              ("cltci-fuzz-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::filesystem::path write_fuzz_input(const std::uint8_t* data,
                                       std::size_t size,
                                       const std::string& extension) {
  static const ScratchDirectory directory;
  const std::filesystem::path file = directory.path() / ("input" + extension);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    // Not the reader's fault: stop the run rather than fuzz a stale or partial file.
    std::fprintf(stderr, "fuzz: cannot write the scratch input %s\n", file.c_str());
    std::abort();
  }
  return file;
}

}  // namespace cltci::fuzz
