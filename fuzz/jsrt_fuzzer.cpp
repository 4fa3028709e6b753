// libFuzzer target: JSRT raw `.IMG` films (data::read_image on a `.img` file: format detection
// by magic bytes, then the raw decoder), as `prepare jsrt` and manifests of JSRT images read
// them. A file of any size but the one valid size must be refused by name.
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
  const std::filesystem::path file = cltci::fuzz::write_fuzz_input(data, size, ".img");
  try {
    // Raw data has no magic: only files that do not look like another format reach the decoder.
    if (cltci::data::detect_image_format(file) != cltci::data::ImageFormat::kJsrt) return 0;
    const cltci::data::DecodedImage image = cltci::data::read_jsrt_img(file);
    // Display values are 4095 - min(v, 4095) scaled by 4095: always inside [0, 1].
    if (image.pixels.type() != CV_32FC1 || image.pixels.rows != 2048 || image.pixels.cols != 2048 ||
        !cv::checkRange(image.pixels, true, nullptr, 0.0, 1.0001)) {
      std::fprintf(stderr, "jsrt: decoded image is not 2048x2048 float in [0, 1]\n");
      std::abort();
    }
  } catch (const cltci::common::InputError&) {
  }
  return 0;
}
