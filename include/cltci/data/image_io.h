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

/// Whether this build decodes PNG/JPEG/TIFF/BMP and writes PNG (CLTCI_IMAGE_CODECS; the GPU-only
/// variant builds without, and trains from a cache a full build prepared).
bool image_codecs_available();

/// Reads PNG (8/16-bit), JPEG, TIFF, BMP through OpenCV; JSRT raw `.IMG` (2048x2048 big-endian
/// 12-bit, exact size check); DICOM (`.dcm` or DICM magic) through DCMTK; GIF through giflib.
/// The format is chosen from the file's magic bytes, then its extension. A missing, truncated
/// or corrupt file throws common::InputError naming it.
DecodedImage read_image(const std::filesystem::path& file);

/// Reads a label map or binary mask as CV_8UC1 without any intensity scaling (PNG, GIF, TIFF,
/// BMP). Throws common::InputError naming the file when it cannot be read.
cv::Mat read_mask(const std::filesystem::path& file);

enum class ImageFormat { kPng, kJpeg, kTiff, kBmp, kGif, kDicom, kJsrt, kUnknown };

/// The format read_image would use: magic bytes first (PNG, JPEG, TIFF, BMP, GIF, "DICM" at
/// offset 128), then the extension (`.img` = JSRT, `.dcm`/`.dicom` = DICOM without preamble).
/// Throws common::InputError when the file cannot be opened.
ImageFormat detect_image_format(const std::filesystem::path& file);

/// Width and height without decoding the pixels where the header gives them (PNG, JSRT);
/// other formats are decoded.
cv::Size read_image_size(const std::filesystem::path& file);

// Format-specific decoders behind read_image (exposed for tools and tests).

/// JSRT raw film scan: exactly 2048*2048 big-endian 16-bit samples holding 12-bit values that
/// are high where the film is dark (datasets.md §1), shown as display = 4095 - min(v, 4095).
DecodedImage read_jsrt_img(const std::filesystem::path& file);

/// GIF through giflib (Debian's OpenCV 4.6 has no GIF decoder): first frame, palette resolved
/// to grey (BT.601 luma), as CV_8UC1.
cv::Mat read_gif_gray(const std::filesystem::path& file);

/// DICOM through DCMTK: modality LUT, first VOI window (else first VOI LUT, else min-max),
/// MONOCHROME1 inverted once by DCMTK's output stage. Throws common::InputError when the build
/// has no DICOM support.
DecodedImage read_dicom(const std::filesystem::path& file);

}  // namespace cltci::data
