// Decoding of every image format the toolkit reads, into one representation.
#pragma once

#include <opencv2/core/mat.hpp>

#include <filesystem>
#include <string>

namespace cltci::data {

/// A decoded X-ray as displayed: CV_32FC1 in [0, 1], bright = dense (bone white), whatever the
/// source's photometric interpretation. `bits` is the source's stored bit depth.
struct DecodedImage {
  cv::Mat pixels;
  int bits = 8;
};

/// Reads PNG (8/16-bit), JPEG, TIFF, BMP through OpenCV; JSRT raw `.IMG` (2048x2048 big-endian
/// 12-bit, exact size check); DICOM (`.dcm` or DICM magic) through DCMTK; GIF through giflib.
/// The format is chosen from the file's magic bytes, then its extension. A missing, truncated
/// or corrupt file throws common::InputError naming it.
DecodedImage read_image(const std::filesystem::path& file);

/// Reads a label map or binary mask as CV_8UC1 without any intensity scaling (PNG, GIF, TIFF,
/// BMP). Throws common::InputError naming the file when it cannot be read.
cv::Mat read_mask(const std::filesystem::path& file);

}  // namespace cltci::data
