#include "cltci/data/image_writers.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"

// Set by whoever compiles this file (src/CMakeLists.txt, fuzz/CMakeLists.txt): undefined would
// silently read as "no codecs".
#ifndef CLTCI_WITH_IMAGE_CODECS
#error "CLTCI_WITH_IMAGE_CODECS must be defined (0 or 1) by the build"
#endif
#if CLTCI_WITH_IMAGE_CODECS
#include <opencv2/imgcodecs.hpp>
#endif

#include <string>
#include <string_view>
#include <vector>

namespace cltci::data {

void write_png(const std::filesystem::path& file, const cv::Mat& image) {
  const bool grey = image.channels() == 1 && (image.depth() == CV_8U || image.depth() == CV_16U);
  const bool colour = image.type() == CV_8UC3;
  if (image.empty() || (!grey && !colour)) {
    throw common::Error("write_png '" + file.string() +
                        "': need a CV_8UC1, CV_16UC1 or CV_8UC3 (BGR) image");
  }
#if CLTCI_WITH_IMAGE_CODECS
  std::vector<unsigned char> bytes;
  if (!cv::imencode(".png", image, bytes)) {
    throw common::Error("write_png '" + file.string() + "': PNG encoding failed");
  }
  common::write_file_atomic(
      file, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
#else
  throw common::InputError("write_png '" + file.string() +
                           "': this build writes no PNG (CLTCI_IMAGE_CODECS=OFF, the GPU-only "
                           "variant); turn the pictures off or use a full build");
#endif
}

}  // namespace cltci::data
