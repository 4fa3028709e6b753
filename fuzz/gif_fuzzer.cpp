// libFuzzer target: GIF masks (data::read_mask on a `.gif` file, through giflib), as the SCR
// lung masks of `prepare scr` and manifests with GIF masks are read.
#include "cltci/common/error.h"
#include "cltci/data/image_io.h"
#include "fuzz_input_file.h"

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path file = cltci::fuzz::write_fuzz_input(data, size, ".gif");
  try {
    if (cltci::data::detect_image_format(file) != cltci::data::ImageFormat::kGif) return 0;
    const cv::Mat grey = cltci::data::read_gif_gray(file);
    if (grey.type() != CV_8UC1 || grey.empty()) {
      std::fprintf(stderr, "gif: decoded mask is not a non-empty CV_8UC1 image\n");
      std::abort();
    }
  } catch (const cltci::common::InputError&) {
  }
  return 0;
}
